"""A bin move within the station's warehouse (`station scan --move BIN`)."""

from station.moves.moving import MOVE as WORKFLOW

__all__ = ["WORKFLOW"]
