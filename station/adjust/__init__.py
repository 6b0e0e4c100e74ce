"""Adjustments by a supervisor, always with a reason (SPEC §3.3): scrapping units and
releasing quarantined units to stock."""
