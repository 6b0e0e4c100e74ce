"""The registry of workflows: `station scan`'s options, the desktop app's pages and the
table-driven tests are built from it. Adding a workflow is one package (with a module
that holds its `WORKFLOW`) and one entry here.

An entry is cheap to read (the command line builds its options from the entries before
anything heavy is imported: `station --help` stays fast); `load()` imports the workflow.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from station.workflow import Workflow


@dataclass(frozen=True, slots=True)
class Entry:
    """A workflow as the command line and the app's menus first see it."""

    kind: str  # the session kind: journal names, roles, `open_session(kind=…)`
    flag: str  # `station scan --receive PO`
    metavar: str
    module: str  # the module whose WORKFLOW is the workflow object

    def load(self) -> Workflow:
        return _load(self.module)


@cache
def _load(module: str) -> Workflow:
    workflow: Workflow = importlib.import_module(module).WORKFLOW
    return workflow


REGISTRY: tuple[Entry, ...] = (
    Entry("receive", "--receive", "PO", "station.receive.workflow"),
    Entry("ship", "--ship", "ORDER", "station.ship.workflow"),
)


def workflow(kind: str) -> Workflow:
    """The workflow of a session kind; ValueError for a kind there is none of."""
    for entry in REGISTRY:
        if entry.kind == kind:
            return entry.load()
    raise ValueError(f"unknown session kind {kind!r}")


def workflows() -> list[Workflow]:
    """Every registered workflow, in the registry's order."""
    return [entry.load() for entry in REGISTRY]
