"""A cycle count of one bin (`station scan --count BIN`)."""

from station.counts.counting import COUNT as WORKFLOW

__all__ = ["WORKFLOW"]
