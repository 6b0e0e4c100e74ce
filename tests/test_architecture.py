"""The shape of the code (docs/ARCHITECTURE.md): no import cycles anywhere in station/ or
ui/ — imports made only for type checking included — and the workflow registry as the
one list of workflows the command line and the app are built from."""

from __future__ import annotations

import grimp

from station.cli import build_parser
from station.workflow import workflows
from station.workflows import REGISTRY


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_module_imports_itself_back_type_checking_imports_included() -> None:
    graph = grimp.build_graph("station", "ui", exclude_type_checking_imports=False)
    # a package imports nothing of its own modules here, so a package and its module
    # never make a cycle by being parent and child
    assert _cycles(graph) == []
    # and the check sees one: the codes importing the session back would close a cycle
    graph.add_import(importer="station.codes", imported="station.session")
    assert any({"station.codes", "station.session"} <= set(group) for group in _cycles(graph))


def test_station_scan_offers_one_option_per_registered_workflow() -> None:
    """`station scan --receive PO | --ship ORDER`: the options are the registry's."""
    scan = build_parser()._subparsers._group_actions[0].choices["scan"]  # type: ignore[union-attr]
    flags = {
        option: action.metavar
        for action in scan._actions
        for option in action.option_strings
        if action.dest in {entry.kind for entry in REGISTRY}
    }
    # a workflow on no document (a free return, a scrap): its flag alone, no value
    assert flags == {entry.flag: entry.metavar or None for entry in REGISTRY}
    assert [flow.kind for flow in workflows()] == [entry.kind for entry in REGISTRY]
