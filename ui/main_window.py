"""The main window: pages in a stack, scans routed to the page on show, the status bar."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from station.app import Opened, open_session, pending_journals
from station.codes import Code, StationError
from station.posting import PostingResult
from station.stations import StationConfig
from station.users import badge_name, check_operator
from station.workflow import workflows
from station.workflows import REGISTRY, facts
from ui.admin_dialogs import FAILURES, OptionsDialog, UsersDialog
from ui.choose_page import ChoosePage
from ui.home_page import HomePage, may_run
from ui.lookup_page import LookupPage
from ui.resources import icon
from ui.scan_page import ScanPage
from ui.services import Services, first_line
from ui.setup_page import SetupPage
from ui.sign_in import SignInDialog
from ui.wedge import WedgeFilter
from ui.widgets import VerdictBanner, take_keyboard

T = TypeVar("T")


class MainWindow(QMainWindow):
    """Home, choose, scan and lookup pages; every scan goes to the page on show."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.setWindowTitle("Station")
        self.setWindowIcon(icon())
        self.resize(1366, 768)
        self.setMinimumSize(1024, 640)
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.home = HomePage(services)
        #: The workflows' session kinds; a choose page for each on a document (a free
        #: return has none: its button opens its scanning page).
        self.kinds = {entry.kind for entry in REGISTRY}
        self.choose = {
            entry.kind: ChoosePage(services, entry.kind)
            for entry in REGISTRY
            if not entry.fixed_number
        }
        self.lookup = LookupPage(services)
        self.scan_page: ScanPage | None = None
        self.setup: SetupPage | None = None
        self.sign_in_box: SignInDialog | None = None
        #: A banner turned red by a scan during a dialog, and what it said before.
        self._held: tuple[VerdictBanner, tuple[str, str, str]] | None = None
        self._reason_dialog: QInputDialog | None = None
        for page in (self.home, *self.choose.values(), self.lookup):
            self.stack.addWidget(page)
        self.home.action.connect(self.do)
        self.home.resume.connect(self.resume)
        for kind, page in self.choose.items():
            page.chosen.connect(lambda number, k=kind: self.open_document(k, number))
            page.cancelled.connect(self.go_home)
        self.lookup.closed.connect(self.go_home)

        self.station_label = QLabel()
        self.operator_label = QLabel()
        self.database_label = QLabel()
        self.scanner_label = QLabel()
        self.printer_label = QLabel()
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        for widget in (
            self.station_label,
            self.operator_label,
            self.database_label,
            self.scanner_label,
        ):
            bar.addWidget(widget)
        bar.addPermanentWidget(self.printer_label)

        self.wedge = WedgeFilter(self)
        self.wedge.scanned.connect(self.route_scan)
        self.wedge.refused.connect(self.refuse_scan)
        self.wedge.install()
        services.scanners.scanned.connect(self.route_scan)
        # bound methods, not lambdas: Qt drops these connections when the window goes,
        # so a signal of the longer-lived services never reaches a deleted window
        services.scanners.state_changed.connect(self._status_changed)
        services.printing.job_done.connect(self._printed)
        services.sounds.problem.connect(self._sound_problem)
        services.database.changed.connect(self._status_changed)

        for keys, name in (
            *((flow.key, flow.kind) for flow in workflows()),
            ("F4", "lookup"),
            ("F11", "sign_in"),
            ("F9", "options"),
            ("F10", "users"),
        ):
            QShortcut(QKeySequence(keys), self, lambda n=name: self.do(n))
        QShortcut(QKeySequence("F5"), self, self.home.resume_first)

        if services.station_name is None:
            self.show_setup()
        else:
            self.start_station()

    # --- pages ----------------------------------------------------------------------

    def show_setup(self) -> None:
        self.setup = SetupPage(self.services)
        self.setup.finished.connect(lambda _name: self.start_station())
        self.stack.addWidget(self.setup)
        self._show(self.setup)
        self.update_status()

    def start_station(self) -> None:
        if self.setup is not None:
            self.stack.removeWidget(self.setup)
            self.setup.deleteLater()
            self.setup = None
        try:
            config = self.wait(self.services.station, "Loading the station's options")
            self.services.apply_station(config)
        except Exception as error:  # database down and no cached options yet
            self.home.banner.show_bad(f"Cannot load the station: {error}", "DATABASE_UNAVAILABLE")
        # once here: the status bar never queries the database
        self.wait(self.services.read_kind, "Reading the station")
        self.services.database.start()
        self.go_home()

    def current_page(self) -> QWidget:
        return self.stack.currentWidget()

    def banner(self) -> VerdictBanner:
        """The banner of the page on show (home's when it has none)."""
        banner = getattr(self.current_page(), "banner", None)
        return banner if isinstance(banner, VerdictBanner) else self.home.banner

    def wait(self, call: Callable[[], T], doing: str) -> T:
        """`call` on the database worker; the banner on show says what runs when it takes
        longer than a blink, until the answer (or the error, raised here) is in."""
        banner = self.banner()
        return self.services.worker.run(call, partial(banner.show_working, doing))

    def _show(self, page: QWidget) -> None:
        self.stack.setCurrentWidget(page)
        focus = getattr(page, "focus_default", None)
        if focus is not None:
            focus()

    def go_home(self) -> None:
        self._close_scan_page()
        self.home.refresh(self.kind(), self.offers())
        self._show(self.home)
        self.update_status()

    def kind(self) -> str:
        """The station's kind as read when it was applied (no database query)."""
        return self.services.kind

    def offers(self) -> list[dict[str, Any]]:
        name = self.services.station_name
        return [
            header
            for header in pending_journals()
            if header.get("station") == name and header.get("kind") in self.kinds
        ]

    def do(self, name: str) -> None:
        if self.setup is not None:
            return
        if name in self.kinds:
            if self.scan_page is not None:
                return
            refused = self._not_allowed(name)
            if refused is not None:  # a clerk's key for a supervisor's workflow
                self._refuse(refused.message, str(refused.code))
                return
            fixed = facts(name).fixed_number
            if fixed:  # on no document: nothing to choose
                self.open_document(name, fixed)
                return
            page = self.choose[name]
            page.reload()
            self._show(page)
        elif name == "lookup":
            if self.scan_page is not None:
                return
            self._show(self.lookup)
        elif name in ("sign_in", "sign_out"):
            if self.scan_page is not None:  # the operator changes between sessions only
                return
            if name == "sign_in":
                self.sign_in()
            else:
                self.sign_out()
        elif name in ("options", "users"):
            # open at once, loaded once it has the keyboard: keys pressed while it loads
            # go to the dialog (Esc closes it), never to the window behind it
            kind = OptionsDialog if name == "options" else UsersDialog
            dialog = kind(self.services)
            refused: list[Exception] = []
            loading: list[bool] = []

            def load(*_focus: object) -> None:
                handle = dialog.windowHandle()
                if loading or not dialog.isVisible():
                    return
                if _focus and (handle is None or QGuiApplication.focusWindow() is not handle):
                    return  # another window's focus change
                loading.append(True)
                try:
                    dialog.load()
                except FAILURES as error:  # the database down, and no cached options
                    refused.append(error)
                    dialog.reject()

            app = QGuiApplication.instance()
            assert isinstance(app, QGuiApplication)
            app.focusWindowChanged.connect(load)
            QTimer.singleShot(250, load)  # no window manager gave it the focus: load anyway
            try:
                dialog.exec()
            finally:
                app.focusWindowChanged.disconnect(load)
            if refused:
                error = refused[0]
                self._refuse(
                    f"{name.title()} cannot open now: {first_line(getattr(error, 'orig', error))}",
                    str(getattr(error, "code", Code.DATABASE_UNAVAILABLE)),
                )
            self.dialog_closed()
            self.update_status()

    def dialog_closed(self, _result: int = 0) -> None:
        """After a dialog: the banner a refused scan turned red says again what it said,
        and the window takes the keyboard back — F2, F3, F4, F12 and scans work without
        a click, with or without a window manager."""
        if self._held is not None:
            banner, shown = self._held
            self._held = None
            if banner.code == Code.DIALOG_OPEN:
                banner.restore(shown)
        if QApplication.activeModalWidget() is not None:
            return  # another dialog is still open: it keeps the keyboard
        take_keyboard(self.current_page())

    def _refuse(self, message: str, code: str) -> None:
        """A red banner on the page on show (home when it has none) and the bad sound."""
        banner = getattr(self.current_page(), "banner", None)
        (banner if isinstance(banner, VerdictBanner) else self.home.banner).show_bad(message, code)
        self.services.sounds.play("bad")

    # --- the operator ---------------------------------------------------------------

    def sign_in(self, name: str = "") -> SignInDialog:
        """The sign-in dialog (window-modal, not blocking); a right PIN signs the operator
        in for this run of the app."""
        if self.sign_in_box is not None:
            self.sign_in_box.close()
        dialog = SignInDialog(self.services, name, parent=self)
        dialog.accepted.connect(self._signed_in)
        dialog.finished.connect(self.dialog_closed)
        self.sign_in_box = dialog
        dialog.open()
        dialog.activateWindow()
        return dialog

    def _signed_in(self) -> None:
        self.sign_in_box = None
        self.home.banner.show_good(f"Signed in: {self.services.operator}.")
        self.home.show_operator()
        self.update_status()

    def sign_out(self) -> None:
        who = self.services.operator
        self.services.operator = self.services.operator_role = None
        if who:
            self.home.banner.show_info(f"{who} signed out. Scan your badge to sign in.")
        self.home.show_operator()
        self.update_status()

    def options_dialog(self) -> OptionsDialog:
        """The options dialog, loaded (FAILURES raised when the options cannot be read)."""
        dialog = OptionsDialog(self.services)
        dialog.load()
        return dialog

    def users_dialog(self) -> UsersDialog:
        """The users dialog, loaded (a failure is said in its banner)."""
        dialog = UsersDialog(self.services)
        dialog.load()
        return dialog

    # --- sessions -------------------------------------------------------------------

    def _not_allowed(self, kind: str) -> StationError | None:
        """NOT_AUTHORIZED when the operator signed in (or nobody, for a supervisor's
        workflow) may not run `kind` — said before anything opens, without the database."""
        known = facts(kind)
        operator, role = self.services.operator, self.services.operator_role
        if may_run(known.roles, role):
            return None
        doing, roles = known.words.title.lower(), " or a ".join(known.roles)
        if operator is None:
            return StationError(
                Code.NOT_AUTHORIZED,
                f"{known.words.title} is done by a {roles}: sign in first (F11).",
            )
        return StationError(
            Code.NOT_AUTHORIZED, f"{operator} is a {role}; {doing} is done by a {roles}."
        )

    def _back_page(self, kind: str) -> ChoosePage | HomePage:
        """Where a session of `kind` goes back to: its choose page, or home (a workflow
        on no document has no choose page)."""
        return self.choose.get(kind, self.home)

    def _go_back(self, kind: str) -> None:
        page = self._back_page(kind)
        if isinstance(page, ChoosePage):
            page.reload()
            self._show(page)
        else:
            self.go_home()

    def open_document(self, kind: str, number: str) -> ScanPage | None:
        """Open the PO / order (a journal left behind is restored) on its scanning page;
        a refusal is shown on the choose page (home, for a workflow on no document)."""
        opened = self._open(kind, number)
        if isinstance(opened, ScanPage):
            return opened
        back = self._back_page(kind)
        if self.current_page() is not back:
            self._go_back(kind)
        back.banner.show_bad(opened.message, str(opened.code))
        self.services.sounds.play("bad")
        return None

    def _open(self, kind: str, number: str) -> ScanPage | StationError:
        if not self.services.database.connected:
            return StationError(
                Code.DATABASE_UNAVAILABLE,
                "The database cannot be reached: documents cannot be opened now.",
            )
        refused = self._not_allowed(kind)
        if refused is not None:
            return refused
        operator = self.services.operator
        engine = self.services.engine
        doing = facts(kind).words.title.lower()  # "supplier return"

        reason: str | None = None

        def opening() -> tuple[StationConfig, Opened]:
            if operator is not None:  # one whose role may (a clerk receives, a packer ships)
                check_operator(engine, operator, doing, facts(kind).roles)
            config = self.services.station()
            opened = open_session(engine, config, kind, number, user=operator, reason=reason)
            return config, opened

        while True:
            try:
                config, opened = self.wait(opening, f"Opening {number.strip()}")
                break
            except StationError as error:
                if error.code != Code.REASON_REQUIRED or reason is not None:
                    return error
                reason = self.ask_reason(kind)  # an adjustment: asked once, then opened
                if reason is None:
                    self.dialog_closed()
                    return error
        self.services.apply_station(config)
        self.update_status()  # the options just read may set other printers or scanners
        self._close_scan_page()
        page = ScanPage(self.services, opened.session, opened.restored, opened.damaged)
        page.closed.connect(lambda: self._leave(kind))
        page.posted.connect(lambda result, note: self._posted(kind, result, note))
        self.scan_page = page
        self.stack.addWidget(page)
        self._show(page)
        if reason is not None:  # after the reason's dialog: the page takes the keyboard
            self.dialog_closed()
        return page

    def ask_reason(self, kind: str) -> str | None:
        """The reason an adjustment is made (kept with its posting); None when the
        supervisor cancels or gives none."""
        dialog = self._reason_dialog
        if dialog is None:  # one, kept: deleting it later took the keyboard from the page
            dialog = self._reason_dialog = QInputDialog(self)
            dialog.setObjectName("reason")
            dialog.setLabelText("Why? The reason is kept with the adjustment:")
        dialog.setWindowTitle(facts(kind).words.title)
        dialog.setTextValue("")
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        text = " ".join(dialog.textValue().split())
        return text if accepted and text else None

    def resume(self, header: dict[str, Any]) -> ScanPage | None:
        return self.open_document(str(header["kind"]), str(header["document"]))

    def _close_scan_page(self) -> None:
        page = self.scan_page
        if page is not None:
            self.scan_page = None
            page.session.close()  # its database connection; the journal stays on disk
            self.stack.removeWidget(page)
            page.deleteLater()

    def _leave(self, kind: str) -> None:
        page = self.scan_page
        left = ""
        if page is not None and page.session.entries:
            left = (
                f"{page.opened} left with {len(page.session.entries)} rows"
                " scanned: they are kept; open it again to carry on."
            )
        self._close_scan_page()
        self._go_back(kind)
        if left:
            self._back_page(kind).banner.show_info(left)

    def _posted(self, kind: str, result: PostingResult, note: str) -> None:
        print_error = self.scan_page.print_error if self.scan_page is not None else ""
        unprinted = self.scan_page.unprinted if self.scan_page is not None else False
        self._close_scan_page()
        self._go_back(kind)
        chooser = self._back_page(kind)
        if print_error:  # posted, but its labels or slip did not reach the printer
            chooser.banner.show_bad(f"{result.message} {note}".strip(), Code.PRINT_FAILED)
            self.statusBar().showMessage(print_error, 10000)
            self.services.sounds.play("bad")
        elif unprinted:  # posted; a slip or labels had no printer set
            chooser.banner.show_warning(f"{result.message} {note}".strip())
        else:
            chooser.banner.show_good(f"{result.message} {note}".strip())

    # --- scans ----------------------------------------------------------------------

    def refuse_scan(self, _raw: str | bytes = "") -> None:
        """A scan while a modal dialog is open is not taken: by the dialog nor the page."""
        modal = QApplication.activeModalWidget()
        if isinstance(modal, SignInDialog) and modal.take_badge(_raw):
            return  # a badge names the user signing in
        message = "Close the dialog first — scan not taken."
        dialog_banner = getattr(modal, "banner", None)
        if isinstance(dialog_banner, VerdictBanner):
            dialog_banner.show_bad(message, Code.DIALOG_OPEN)
        page_banner = getattr(self.current_page(), "banner", None)
        banner = page_banner if isinstance(page_banner, VerdictBanner) else self.home.banner
        if self._held is None and isinstance(modal, QDialog):
            # the page's banner says it too, until the dialog closes (then what it said)
            self._held = (banner, banner.snapshot())
            modal.finished.connect(self.dialog_closed)
        self._refuse(message, Code.DIALOG_OPEN)

    def route_scan(self, raw: str | bytes) -> None:
        """A scan from the wedge or a serial scanner goes to the page on show; one that
        arrives while the window awaits the database's answer waits its turn, in order."""
        if QApplication.activeModalWidget() is not None:
            self.refuse_scan(raw)
            return
        if self.services.worker.busy:
            self.services.worker.later(lambda: self.route_scan(raw))
            return
        page = self.current_page()
        if page is self.home:
            self._home_scan(raw)
            return
        handler = getattr(page, "scan", None)
        if handler is not None:
            handler(raw)
        else:  # a page without scans (setup): the scanner typed into the focused field
            self.wedge.type_text(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)

    def _home_scan(self, raw: str | bytes) -> None:
        """A scan on the home page is a PO number (receive station), an order number (ship
        station), or either (both)."""
        text = (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw).strip()
        if not text:
            return
        badge = badge_name(text)
        if badge is not None:  # USER-<name>: that user signs in with their PIN
            self.sign_in(badge)
            return
        kind = self.kind()
        kinds = [
            flow.kind
            for flow in workflows()
            if kind in (flow.station_kind, "both") and flow.facts.from_home
        ]
        refusal: StationError | None = None
        for candidate in kinds:
            opened = self._open(candidate, text)
            if isinstance(opened, ScanPage):
                return
            if refusal is None or opened.code not in (Code.PO_NOT_FOUND, Code.ORDER_NOT_FOUND):
                refusal = opened
        assert refusal is not None
        if len(kinds) == 2 and refusal.code in (Code.PO_NOT_FOUND, Code.ORDER_NOT_FOUND):
            refusal = StationError(refusal.code, f"No PO or sales order {text}.")
        self.home.banner.show_bad(refusal.message, str(refusal.code))
        self.services.sounds.play("bad")

    # --- status bar -----------------------------------------------------------------

    def _status_changed(self, *_args: object) -> None:
        self.update_status()

    def _sound_problem(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

    def update_status(self) -> None:
        services = self.services
        name = services.station_name
        self.station_label.setText(f"Station: {name} ({self.kind()})" if name else "Station: setup")
        operator = services.operator
        self.operator_label.setText(f"Operator: {operator}" if operator else "Operator: nobody")
        database = services.database
        self._state(
            self.database_label,
            "Database: connected"
            if database.connected
            else "Database: UNREACHABLE — scanning refused",
            database.connected,
        )
        self._state(
            self.scanner_label,
            f"Scanner: {services.scanners.describe()}",
            services.scanners.healthy(),
        )
        printing = services.printing
        set_up = bool(printing.label_url or printing.receipt_url or printing.problem)
        self._state(
            self.printer_label,
            f"Printer: {printing.describe()}",
            printing.healthy() if set_up else None,
        )

    @staticmethod
    def _state(widget: QLabel, text: str, good: bool | None) -> None:
        """Green when working, red when not, grey (`none`) when there is nothing to work."""
        widget.setText(text)
        state = "none" if good is None else "good" if good else "bad"
        if widget.property("state") != state:
            widget.setProperty("state", state)
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    def _printed(self, ticket: Any) -> None:
        self.update_status()
        if ticket.status == "failed":
            self.statusBar().showMessage(f"Print failed: {ticket.error}", 10000)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.sign_in_box is not None:
            self.sign_in_box.close()
        self.wedge.remove()
        if self.scan_page is not None:
            self.scan_page.session.close()
        self.services.shutdown()
        super().closeEvent(event)
