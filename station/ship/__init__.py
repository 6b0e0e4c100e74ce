"""Scan-and-ship workflow (SPEC §3.2): the session, its rules and its posting."""
