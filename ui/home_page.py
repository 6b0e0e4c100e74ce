"""The start page: a big button per workflow the station runs (the receive side's —
receive, customer return, free return, supplier return — in one row, the ship side's in
another), Lookup, the offer to resume an unfinished session, and the operator signed in
(Sign in / Sign out)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from station.workflow import workflows
from station.workflows import facts
from ui.services import Services
from ui.widgets import VerdictBanner, button, label


def may_run(roles: tuple[str, ...], role: str | None) -> bool:
    """Whether an operator of `role` may run a workflow of `roles`; with nobody signed
    in, any workflow but a supervisor's (a supervisor signs in for those)."""
    if role is not None:
        return role in roles
    return any(allowed != "supervisor" for allowed in roles)


class HomePage(QWidget):
    """Signals: `action(name)` for receive / ship / lookup / options / users / sign_in /
    sign_out, and
    `resume(header)` for an unfinished session's journal header."""

    action = Signal(str)
    resume = Signal(dict)

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.offers: list[dict[str, Any]] = []
        self.kind = "both"  # the station's kind, as last refreshed
        self.title = label("", "title")
        self.banner = VerdictBanner("Scan a PO or order number, or choose below.")
        self.offer = label("", "offer", wrap=True)
        self.resume_button = button("Resume (F5)", primary=True)
        self.resume_button.clicked.connect(self.resume_first)
        offer_row = QHBoxLayout()
        offer_row.addWidget(self.offer, 1)
        offer_row.addWidget(self.resume_button)
        self.offer_box = QWidget()
        self.offer_box.setLayout(offer_row)
        #: One big button per workflow of the registry: its name, its key below it.
        self.workflow_buttons = {
            flow.kind: button(f"{flow.words.menu}\n{flow.key}", big=True) for flow in workflows()
        }
        self.receive_button = self.workflow_buttons["receive"]
        self.ship_button = self.workflow_buttons["ship"]
        self.lookup_button = button("Lookup\nF4", big=True)
        self.options_button = button("Options  (F9)")
        self.users_button = button("Users  (F10)")
        self.sign_in_button = button("Sign in  (F11)")
        self.sign_out_button = button("Sign out")
        for widget, name in (
            *((widget, kind) for kind, widget in self.workflow_buttons.items()),
            (self.lookup_button, "lookup"),
            (self.options_button, "options"),
            (self.users_button, "users"),
            (self.sign_in_button, "sign_in"),
            (self.sign_out_button, "sign_out"),
        ):
            widget.clicked.connect(lambda _=False, n=name: self.action.emit(n))
        self.operator_label = label("", "operator")
        # one row per side of the dock (the workflows a receive station runs, then a ship
        # station's), the supervisor's own workflows in a row of their own after their
        # side's, in the registry's order; Lookup under them, for every station
        rows = QVBoxLayout()
        sides: dict[tuple[str, bool], QHBoxLayout] = {}
        for flow in workflows():
            side = (flow.station_kind, flow.roles == ("supervisor",))
            if side not in sides:
                sides[side] = QHBoxLayout()
            sides[side].addWidget(self.workflow_buttons[flow.kind], 1)
        for side in sorted(sides, key=lambda s: (s[0] != "receive", s[0], s[1])):
            rows.addLayout(sides[side])
        rows.addWidget(self.lookup_button)
        admin_row = QHBoxLayout()
        admin_row.addWidget(self.operator_label)
        admin_row.addWidget(self.sign_in_button)
        admin_row.addWidget(self.sign_out_button)
        admin_row.addStretch(1)
        admin_row.addWidget(self.options_button)
        admin_row.addWidget(self.users_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 20, 40, 20)
        layout.addWidget(self.title)
        layout.addWidget(self.banner)
        layout.addWidget(self.offer_box)
        layout.addLayout(rows)
        layout.addStretch(1)
        layout.addLayout(admin_row)

    def focus_default(self) -> None:
        shown = [b for b in self.workflow_buttons.values() if not b.isHidden()]
        (self.resume_button if self.offers else (shown or [self.lookup_button])[0]).setFocus()

    def refresh(self, kind: str, offers: list[dict[str, Any]]) -> None:
        name = self.services.station_name or ""
        self.title.setText(f"Station {name} · {kind}")
        self.kind = kind
        self.offers = offers
        if offers:
            first = offers[0]
            verb = facts(str(first["kind"])).words.doing.lower()
            more = f" (and {len(offers) - 1} more)" if len(offers) > 1 else ""
            user = first.get("user")
            by = f" by {user}" if user and user != self.services.operator else ""
            self.offer.setText(
                f"Resume {verb} {first['document']}: {first['scans']} scans{by}?{more}"
            )
        self.offer_box.setVisible(bool(offers))
        self.show_operator()

    def show_operator(self) -> None:
        """Who is signed in, and the workflows this station runs that they may run (a
        supervisor's, such as supplier returns, show for a signed-in supervisor only)."""
        operator, role = self.services.operator, self.services.operator_role
        for flow in workflows():
            self.workflow_buttons[flow.kind].setVisible(
                self.kind in (flow.station_kind, "both") and may_run(flow.roles, role)
            )
        who = f"{operator} ({role})" if role else operator
        self.operator_label.setText(
            f"Operator: {who}" if operator else "Operator: nobody signed in — scan your badge"
        )
        self.sign_in_button.setText("Switch user  (F11)" if operator else "Sign in  (F11)")
        self.sign_out_button.setVisible(operator is not None)

    def resume_first(self) -> None:
        if self.offers:
            self.resume.emit(self.offers[0])
