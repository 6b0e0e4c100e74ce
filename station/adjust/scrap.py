"""Scrapping units (SPEC §3.3 adjustments)."""

from station.adjust.adjustment import SCRAP as WORKFLOW

__all__ = ["WORKFLOW"]
