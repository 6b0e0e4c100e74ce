"""Receive workflow (SPEC §3.1): the session, its rules and its posting."""
