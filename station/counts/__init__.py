"""Cycle counts of a bin by serial (SPEC §3.3): the count session, its posting (missing,
misplaced, found) and the count sheet of the serials a bin should hold."""
