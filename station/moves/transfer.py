"""A transfer to another warehouse (`station scan --transfer WAREHOUSE[/BIN]`)."""

from station.moves.moving import TRANSFER as WORKFLOW

__all__ = ["WORKFLOW"]
