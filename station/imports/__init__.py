"""Imports from CSV or XLSX (SPEC §7): products, purchase orders, sales orders, stock.

Every import reads the whole file and checks every row first (types, required
fields, unknown SKUs, duplicates in the file and against the ledger). When any row
is bad, nothing is written and `ImportInvalid` lists each bad row with its line
number. Good files are written in one transaction with chunked Core inserts.

The modules: `files` (and `workbook`) read a file into rows, `checks` holds the rules
every import shares and the errors it reports, `writing` the transaction and summary;
one module per import kind — `products`, `documents` (purchase orders and sales orders
on one path) and `stock` (the opening balance, streamed).
"""

from station.imports.checks import ImportInvalid, RowError
from station.imports.documents import import_orders, import_pos
from station.imports.products import import_products, write_products
from station.imports.stock import import_stock

__all__ = [
    "ImportInvalid",
    "RowError",
    "import_orders",
    "import_pos",
    "import_products",
    "import_stock",
    "write_products",
]
