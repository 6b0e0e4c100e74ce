"""The receive rules (SPEC §3.1), used at scan time and again, with the same words,
inside the posting transaction; the serial rules of a product are every workflow's
(`station.rules.check_serial_rules`)."""

from __future__ import annotations

from station.codes import Code
from station.documents import Document
from station.rules import Problem


def po_not_open(po: Document, options: dict[str, object]) -> Problem | None:
    """PO_NOT_OPEN: a closed PO takes nothing; a fully received one takes more only
    with allow_over_receipt."""
    if po.status == "closed":
        return Problem(Code.PO_NOT_OPEN, f"PO {po.number} is closed.", "document")
    if po.status == "received" and not options["allow_over_receipt"]:
        return Problem(
            Code.PO_NOT_OPEN,
            f"PO {po.number} is fully received (allow_over_receipt is off).",
            "document",
        )
    return None
