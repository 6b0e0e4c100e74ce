"""Stable verdict and error codes: the public interface integrators script against.

Every rule in Station is named by one member here; search for the code to find the rule.
Codes are never renamed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class Code(StrEnum):
    OK = "OK"
    # scan reading (SPEC §3.0, §5)
    NO_ITEM_SELECTED = "NO_ITEM_SELECTED"
    UNKNOWN_ITEM = "UNKNOWN_ITEM"
    SCAN_UNREADABLE = "SCAN_UNREADABLE"
    GS1_INVALID = "GS1_INVALID"
    UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
    NOTHING_TO_UNDO = "NOTHING_TO_UNDO"
    # receive (SPEC §3.1)
    ITEM_NOT_ON_PO = "ITEM_NOT_ON_PO"
    OVER_RECEIPT = "OVER_RECEIPT"
    SERIAL_INVALID = "SERIAL_INVALID"
    SERIAL_EQUALS_ITEM_CODE = "SERIAL_EQUALS_ITEM_CODE"
    SERIAL_BAD_LENGTH = "SERIAL_BAD_LENGTH"
    SERIAL_BAD_FORMAT = "SERIAL_BAD_FORMAT"
    SERIAL_DUPLICATE_IN_SESSION = "SERIAL_DUPLICATE_IN_SESSION"
    SERIAL_ALREADY_EXISTS = "SERIAL_ALREADY_EXISTS"
    SERIAL_REQUIRED = "SERIAL_REQUIRED"
    SERIAL_GENERATION_FAILED = "SERIAL_GENERATION_FAILED"
    # ship (SPEC §3.2)
    ITEM_NOT_ON_ORDER = "ITEM_NOT_ON_ORDER"
    OVER_PACK = "OVER_PACK"
    SERIAL_UNKNOWN = "SERIAL_UNKNOWN"
    SERIAL_WRONG_PRODUCT = "SERIAL_WRONG_PRODUCT"
    SERIAL_NOT_IN_STOCK = "SERIAL_NOT_IN_STOCK"
    SERIAL_WRONG_WAREHOUSE = "SERIAL_WRONG_WAREHOUSE"
    SERIAL_NOT_FROM_PO = "SERIAL_NOT_FROM_PO"
    SERIAL_NOT_ALLOCATED = "SERIAL_NOT_ALLOCATED"
    ORDER_INCOMPLETE = "ORDER_INCOMPLETE"
    # returns (SPEC §3.3)
    OVER_RETURN = "OVER_RETURN"
    SERIAL_NOT_ON_ORDER = "SERIAL_NOT_ON_ORDER"
    SERIAL_NOT_SHIPPED = "SERIAL_NOT_SHIPPED"
    SERIAL_NOT_FROM_VENDOR = "SERIAL_NOT_FROM_VENDOR"
    NOT_ENOUGH_STOCK = "NOT_ENOUGH_STOCK"
    VENDOR_NOT_FOUND = "VENDOR_NOT_FOUND"
    # adjustments (SPEC §3.3)
    SERIAL_NOT_QUARANTINED = "SERIAL_NOT_QUARANTINED"
    # locations, moves and transfers (SPEC §3.3)
    BIN_UNKNOWN = "BIN_UNKNOWN"
    LOCATION_NOT_HERE = "LOCATION_NOT_HERE"
    WAREHOUSE_NOT_FOUND = "WAREHOUSE_NOT_FOUND"
    UNIT_CHANGED_MEANWHILE = "UNIT_CHANGED_MEANWHILE"
    # documents and posting
    PO_NOT_FOUND = "PO_NOT_FOUND"
    PO_NOT_OPEN = "PO_NOT_OPEN"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ORDER_NOT_OPEN = "ORDER_NOT_OPEN"
    NOTHING_TO_POST = "NOTHING_TO_POST"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    DATABASE_BUSY = "DATABASE_BUSY"
    POSTING_FAILED = "POSTING_FAILED"
    POSTING_OUTCOME_UNKNOWN = "POSTING_OUTCOME_UNKNOWN"
    # administration
    UNKNOWN_OPTION = "UNKNOWN_OPTION"
    DATABASE_URL_INVALID = "DATABASE_URL_INVALID"
    BAD_OPTION_VALUE = "BAD_OPTION_VALUE"
    NOT_AUTHORIZED = "NOT_AUTHORIZED"
    REASON_REQUIRED = "REASON_REQUIRED"
    USER_LOCKED = "USER_LOCKED"
    UNKNOWN_USER = "UNKNOWN_USER"
    USER_EXISTS = "USER_EXISTS"
    UNKNOWN_STATION = "UNKNOWN_STATION"
    IMPORT_INVALID = "IMPORT_INVALID"
    SERIALIZED_IN_USE = "SERIALIZED_IN_USE"
    EXPORT_INVALID = "EXPORT_INVALID"
    EXPORT_FAILED = "EXPORT_FAILED"
    PRINT_FAILED = "PRINT_FAILED"
    LABEL_TEMPLATE_MISSING = "LABEL_TEMPLATE_MISSING"
    LABEL_TEMPLATE_INVALID = "LABEL_TEMPLATE_INVALID"
    LABEL_UNPRINTABLE = "LABEL_UNPRINTABLE"
    DIALOG_OPEN = "DIALOG_OPEN"
    # the database schema (SPEC §9)
    SCHEMA_OUT_OF_DATE = "SCHEMA_OUT_OF_DATE"
    STATION_OUT_OF_DATE = "STATION_OUT_OF_DATE"
    # the session journal (SPEC §8)
    JOURNAL_DAMAGED = "JOURNAL_DAMAGED"
    JOURNAL_UNAVAILABLE = "JOURNAL_UNAVAILABLE"
    DATA_FOLDER_UNAVAILABLE = "DATA_FOLDER_UNAVAILABLE"
    SESSION_OTHER_USER = "SESSION_OTHER_USER"


#: What each code means, in one line: shown in `station codes` and the README.
DESCRIPTIONS: dict[Code, str] = {
    Code.OK: "The scan was accepted.",
    Code.NO_ITEM_SELECTED: "A serial was scanned before any item was selected.",
    Code.UNKNOWN_ITEM: "The scan matches no product barcode or SKU.",
    Code.SCAN_UNREADABLE: "The scan is not readable text (bad bytes or too long).",
    Code.GS1_INVALID: "The scan looks like GS1 data but does not parse.",
    Code.UNKNOWN_COMMAND: "A command barcode that Station does not know.",
    Code.NOTHING_TO_UNDO: "Undo with nothing scanned in this session.",
    Code.ITEM_NOT_ON_PO: "The product is not on this purchase order.",
    Code.OVER_RECEIPT: "The line has no unit left to receive (allow_over_receipt is off).",
    Code.SERIAL_INVALID: (
        "The serial is empty, longer than 64 characters, not printable ASCII"
        " (serial_charset = ascii) or mixing look-alike scripts (unicode)."
    ),
    Code.SERIAL_EQUALS_ITEM_CODE: "The serial equals a barcode or SKU on the document.",
    Code.SERIAL_BAD_LENGTH: "The serial breaks the product's or station's length rule.",
    Code.SERIAL_BAD_FORMAT: "The serial does not match the product's serial pattern.",
    Code.SERIAL_DUPLICATE_IN_SESSION: "The serial was already scanned in this session.",
    Code.SERIAL_ALREADY_EXISTS: "A unit with this serial already exists.",
    Code.SERIAL_REQUIRED: "A serialized unit has no serial while require_serial is on.",
    Code.SERIAL_GENERATION_FAILED: "Every serial generated for a unit exists already.",
    Code.ITEM_NOT_ON_ORDER: "The product is not on this sales order.",
    Code.OVER_PACK: "The line has no unit left to pack.",
    Code.SERIAL_UNKNOWN: "No unit has this serial (require_serial_validation is on).",
    Code.SERIAL_WRONG_PRODUCT: "The unit with this serial is another product.",
    Code.SERIAL_NOT_IN_STOCK: "The unit is not in stock (shipped, returned, not found, scrapped).",
    Code.SERIAL_WRONG_WAREHOUSE: "The unit is in another warehouse than this station's.",
    Code.SERIAL_NOT_FROM_PO: "The unit was not received on a PO (match_serial_to_po is on).",
    Code.SERIAL_NOT_ALLOCATED: "The order line has pre-allocated serials and this is not one.",
    Code.ORDER_INCOMPLETE: "Ship with lines not fully packed (allow_partial_ship is off).",
    Code.OVER_RETURN: "More units of the line would come back than shipped on the order.",
    Code.BIN_UNKNOWN: "The location names no bin of this warehouse (a supervisor makes bins).",
    Code.LOCATION_NOT_HERE: "A location barcode where this session takes none, or while a"
    " serial is awaited.",
    Code.WAREHOUSE_NOT_FOUND: "No warehouse by that code (a transfer's destination).",
    Code.UNIT_CHANGED_MEANWHILE: "Another posting changed a scanned unit since its scan (saving"
    " again posts it as it is now).",
    Code.SERIAL_NOT_ON_ORDER: "The unit did not ship on this order (the verdict says where).",
    Code.SERIAL_NOT_SHIPPED: "The unit shipped on this order is back already (or not out).",
    Code.SERIAL_NOT_FROM_VENDOR: "The unit was not received from this vendor (named).",
    Code.NOT_ENOUGH_STOCK: "More of a non-serialized product would leave than is on hand.",
    Code.VENDOR_NOT_FOUND: "No vendor has this name.",
    Code.SERIAL_NOT_QUARANTINED: "Only a quarantined unit can be released from quarantine.",
    Code.PO_NOT_FOUND: "No purchase order has this number.",
    Code.PO_NOT_OPEN: "The purchase order is received or closed.",
    Code.ORDER_NOT_FOUND: "No sales order has this number.",
    Code.ORDER_NOT_OPEN: "The sales order is shipped or cancelled.",
    Code.NOTHING_TO_POST: "Save with nothing scanned.",
    Code.DATABASE_UNAVAILABLE: "The database cannot be reached; the session stays journaled.",
    Code.DATABASE_BUSY: (
        "The database is busy (another station holds its lock, or it is too slow):"
        " nothing changed; try again."
    ),
    Code.POSTING_FAILED: "The database refused the posting; nothing was written.",
    Code.POSTING_OUTCOME_UNKNOWN: (
        "The connection was lost during the commit: save again to learn whether it was"
        " posted (a session posts once)."
    ),
    Code.UNKNOWN_OPTION: "No station option has this name.",
    Code.DATABASE_URL_INVALID: "The --db URL (or STATION_DATABASE_URL) names no usable database.",
    Code.BAD_OPTION_VALUE: "The value does not fit the option.",
    Code.NOT_AUTHORIZED: (
        "A supervisor's name and PIN are needed and were not given or wrong, or the"
        " user's role may not do this."
    ),
    Code.REASON_REQUIRED: "An adjustment needs its reason (--reason).",
    Code.USER_LOCKED: "Too many wrong PINs: the user is locked until the time named.",
    Code.UNKNOWN_USER: "No user has this name.",
    Code.USER_EXISTS: "A user with this name exists already.",
    Code.UNKNOWN_STATION: "No station has this name.",
    Code.IMPORT_INVALID: "An import file has bad rows; nothing was written.",
    Code.SERIALIZED_IN_USE: (
        "A product's serialized flag cannot change while it has units, stock or open lines."
    ),
    Code.EXPORT_INVALID: "An export was asked with a bad kind, filter or date.",
    Code.EXPORT_FAILED: (
        "A file to write (export, label) cannot be written, or would replace the ledger,"
        " the station's data or a device: nothing written."
    ),
    Code.PRINT_FAILED: "Posted, but its labels or slip could not be printed.",
    Code.LABEL_TEMPLATE_MISSING: "A label template cannot be read (STATION_LABELS_DIR?).",
    Code.LABEL_TEMPLATE_INVALID: "A label template has unknown fields, sections or non-ASCII.",
    Code.LABEL_UNPRINTABLE: "The serial has characters the receipt printer cannot print.",
    Code.DIALOG_OPEN: "A scan arrived while a dialog was open; it was not taken.",
    Code.SCHEMA_OUT_OF_DATE: (
        "The shared database's schema is older than this Station: a supervisor runs"
        " `station db upgrade`."
    ),
    Code.STATION_OUT_OF_DATE: (
        "The database's schema is newer than this Station: install the newer Station."
    ),
    Code.JOURNAL_DAMAGED: "Damaged journal: kept aside; the scans before the damage were restored.",
    Code.JOURNAL_UNAVAILABLE: "The journal cannot be written (disk full, no permission): refused.",
    Code.DATA_FOLDER_UNAVAILABLE: "The data folder (STATION_DATA_DIR) is a file or read-only.",
    Code.SESSION_OTHER_USER: "The document has unsaved scans by another user: continue as them.",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to one scan: what the operator sees and hears."""

    scan: str
    ok: bool
    code: Code
    kind: str  # item | serial | gs1 | command | document
    message: str
    sku: str | None = None
    serial: str | None = None
    #: For CMD-SAVE: the posting result (see station.posting.PostingResult).
    posting: object | None = None

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("posting")
        data["code"] = str(self.code)
        return data


class StationError(Exception):
    """A refused request with a stable code and a human message."""

    def __init__(self, code: Code, message: str, serials: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.serials = list(serials or [])  # a refused posting: the serials to remove
