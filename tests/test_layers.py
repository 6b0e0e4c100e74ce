"""Layers (STYLE §1): nothing under station/ imports Qt or the GUI; SQL stays in station/db."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "station"
FORBIDDEN = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "qtpy", "ui")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_core_never_imports_qt_or_the_gui() -> None:
    offenders = [
        f"{path.relative_to(CORE.parent)}: {name}"
        for path in CORE.rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []


def test_the_check_would_see_a_qt_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtWidgets import QWidget\nimport ui.app\n")
    assert [n for n in _imports(bad) if n.split(".")[0] in FORBIDDEN] == [
        "PySide6.QtWidgets",
        "ui.app",
    ]


def test_sql_statements_live_in_the_data_layer() -> None:
    builders = ("select(", "insert(", "update(", "delete(", "text(")
    offenders = []
    for path in CORE.rglob("*.py"):
        if "db" in path.relative_to(CORE).parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
                used = {alias.name for alias in node.names}
                bad = used & {b.rstrip("(") for b in builders}
                if bad:
                    offenders.append(f"{path.relative_to(CORE.parent)}: {sorted(bad)}")
    assert offenders == []
