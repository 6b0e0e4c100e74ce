"""Releasing quarantined units to stock (SPEC §3.3 adjustments)."""

from station.adjust.adjustment import RELEASE as WORKFLOW

__all__ = ["WORKFLOW"]
