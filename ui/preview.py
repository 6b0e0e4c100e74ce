"""A label or packing-slip preview: the PNG the devices layer renders from the ZPL."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QHideEvent, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget


class PreviewDialog(QDialog):
    def __init__(self, title: str, png: bytes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        pixmap = QPixmap()
        pixmap.loadFromData(png, "PNG")
        if pixmap.width() > 700:
            pixmap = pixmap.scaledToWidth(700, Qt.TransformationMode.SmoothTransformation)
        self.image = QLabel()
        self.image.setPixmap(pixmap)
        scroll = QScrollArea()
        scroll.setWidget(self.image)
        scroll.setWidgetResizable(True)
        scroll.setMinimumSize(min(pixmap.width() + 30, 740), min(pixmap.height() + 30, 600))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(buttons)

    def hideEvent(self, event: QHideEvent) -> None:
        """Scans go back to the window at once (the wedge serves the active window)."""
        super().hideEvent(event)
        parent = self.parentWidget()
        if parent is not None:
            parent.window().activateWindow()
