"""Small widgets shared by the pages: the verdict banner and table setup."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QWidget,
)

from station.codes import Code, Verdict
from station.scanning import Scan, read_scan, show

#: Banner colours: white text on these backgrounds passes WCAG AA for large text.
GOOD = "#1b7f3b"
BAD = "#b3261e"
INFO = "#12355b"
#: Amber with white bold text (large): a warning, neither a success nor a refusal.
WARN = "#8a4b00"


class VerdictBanner(QLabel):
    """The big green/red line saying what happened to the last scan.

    Coloured through its palette (cheap to switch on every scan; no style recompute);
    `state` is "good", "bad", "info", "warn" or "busy" (work under way) and `code` the
    last verdict code.
    """

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.setAutoFillBackground(True)
        self.setMinimumHeight(76)
        self.setMargin(8)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        font = QFont(self.font())
        font.setPointSize(22)
        font.setBold(True)
        self.setFont(font)
        self.state = ""
        self.code = ""
        self._palettes: dict[str, QPalette] = {}
        for state, colour in (
            ("good", GOOD),
            ("bad", BAD),
            ("info", INFO),
            ("warn", WARN),
            ("busy", INFO),
        ):
            palette = QPalette(self.palette())
            palette.setColor(QPalette.ColorRole.Window, QColor(colour))
            palette.setColor(QPalette.ColorRole.WindowText, QColor("#ffffff"))
            self._palettes[state] = palette
        self.show_info(text)

    @property
    def colour(self) -> str:
        return self.palette().color(QPalette.ColorRole.Window).name()

    def _set(self, state: str, code: str, text: str) -> None:
        if state != self.state:
            self.setPalette(self._palettes[state])
            self.state = state
        self.code = code
        self.setText(text)

    def show_verdict(self, verdict: Verdict) -> None:
        mark = "✔" if verdict.ok else "✖"
        code = "" if verdict.ok else f"  [{verdict.code}]"
        self._set(
            "good" if verdict.ok else "bad", str(verdict.code), f"{mark} {verdict.message}{code}"
        )

    def show_good(self, text: str, code: str = "OK") -> None:
        self._set("good", code, f"✔ {text}")

    def show_bad(self, text: str, code: str) -> None:
        self._set("bad", code, f"✖ {text}  [{code}]")

    def show_info(self, text: str) -> None:
        self._set("info", "", text)

    def show_working(
        self, text: str, seconds: float = 0.0, progress: tuple[int, int] | None = None
    ) -> None:
        """Something runs that takes longer than a blink (a posting, a slow database):
        what, how far it got (`progress`: done of total) and for how long so far. The
        verdict replaces it."""
        took = f" {seconds:.0f} s" if seconds >= 1 else ""
        done = ""
        if progress is not None:
            count, total = progress
            done = f" {count:,} of {total:,} —" if total else f" {count:,} —"
        self._set("busy", "", f"⏳ {text} —{done} working…{took}")

    def show_warning(self, text: str, code: str = "OK") -> None:
        """Done, but something the user must know (no printer for the slip): amber."""
        self._set("warn", code, f"⚠ {text}")

    def snapshot(self) -> tuple[str, str, str]:
        """What the banner says now, to put back with `restore`."""
        return self.state, self.code, self.text()

    def restore(self, shown: tuple[str, str, str]) -> None:
        state, code, text = shown
        self._set(state or "info", code, text)


def take_keyboard(page: QWidget) -> None:
    """After a dialog the page opened: its window is active again and the page's field
    has the focus, so shortcuts and scans work without a click (no window manager
    needed: kiosk benches run without one)."""
    window = page.window()
    window.raise_()
    window.activateWindow()
    focus = getattr(page, "focus_default", None)
    if focus is not None:
        focus()


def fit_columns(view: QTableView) -> None:
    """Each column as wide as its header and its contents (the first rows Qt samples);
    a stretched column keeps its mode. Never narrower than the header's own text: a
    header is never cut; a long cell is elided, its tooltip says it whole."""
    header = view.horizontalHeader()
    model = view.model()
    if model is None:
        return
    for column in range(model.columnCount()):
        if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch:
            continue
        view.resizeColumnToContents(column)
        wanted = header.sectionSizeHint(column)
        if header.sectionSize(column) < wanted:
            header.resizeSection(column, wanted)


def setup_table(view: QTableView, *, stretch: int | None = None, rows: int = 34) -> None:
    """Fixed row heights (fast with 100,000 rows), whole-row selection, no editing."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    vertical = view.verticalHeader()
    vertical.setVisible(False)
    vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vertical.setDefaultSectionSize(rows)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


def button(text: str, *, primary: bool = False, big: bool = False) -> QPushButton:
    widget = QPushButton(text)
    if primary:
        widget.setObjectName("primary")
    if big:
        widget.setObjectName("big")
    widget.setAutoDefault(True)  # Enter presses the focused button (keyboard-only use)
    return widget


def name_and_pin(placeholder: str) -> tuple[QLineEdit, QLineEdit]:
    """A name field and a PIN field whose typing is hidden: every sign-in asks for both."""
    name = QLineEdit()
    name.setPlaceholderText(placeholder)
    pin = QLineEdit()
    pin.setEchoMode(QLineEdit.EchoMode.Password)
    pin.setPlaceholderText("PIN")
    return name, pin


def label(text: str = "", name: str | None = None, *, wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    widget.setWordWrap(wrap)
    return widget


def read_number_scan(
    raw: str | bytes,
    *,
    command_prefix: str,
    banner: VerdictBanner,
    refuse: Callable[[], None],
    cancel: Callable[[], None],
    wanted: str,
) -> Scan | None:
    """A scan on a page that takes a number (choose, lookup): CMD-CANCEL leaves the
    page, another command or an unreadable scan is refused in the banner (`refuse`
    plays the bad sound); anything else comes back for the page to use."""
    read = read_scan(raw, command_prefix=command_prefix)
    if read.kind == "command":
        if read.command == "CANCEL":
            cancel()
            return None
        banner.show_bad(f"{show(read.text)} is not used here: {wanted}.", str(Code.UNKNOWN_COMMAND))
        refuse()
        return None
    if read.kind == "unreadable":
        if read.text:
            banner.show_bad(f"Scan not read: {read.problem}.", str(Code.SCAN_UNREADABLE))
            refuse()
        return None
    return read
