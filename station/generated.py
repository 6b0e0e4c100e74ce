"""Serials a station generates for units that have none: a receive station with
generate_serials (SPEC §3.1 step 6), a return station for a unit whose label was lost
(CMD-NOLABEL, §3.3). Shared by the workflows that make serials, which stay independent
of each other.

A serial is the station's `serial_pattern` rendered with the product, the day and a
number of a shared sequence that never repeats, even across stations. The numbers for
every pending unit are reserved in one statement, in a short transaction of its own
before the posting (a failed posting leaves a gap: numbers never repeat, they need not
be dense; a refused generation gives its numbers back while nobody took one since).
The serials are then checked against the ledger in one look-up, without any lock; the
few that exist already (say, imported serials that fit the pattern) get new numbers, in
at most MAX_ROUNDS rounds. The posting's unique constraint stays the last line against
another station inserting the same serial meanwhile.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from station import options as opts
from station import stations
from station.codes import Code, StationError
from station.db import company, documents, units
from station.db.engine import reading
from station.documents import Product
from station.grid import Entry
from station.patterns import check_generated
from station.posting import Posting, PostingResult, refused_by_database
from station.rules import Problem
from station.scanning import serial_key
from station.stations import StationConfig

#: Rounds of new numbers for serials found to exist already; round r reserves 2**r
#: numbers per unit still without a serial, so a dense run of existing serials is
#: crossed quickly. After the last round the posting is refused.
MAX_ROUNDS = 6

#: What a plan takes from outside its transaction: the serials generated for the units
#: that have none (by `id(entry)`), and the moment of the posting.
Made = tuple[dict[int, str], datetime]


def prepare(
    engine: Engine,
    posting: Posting,
    header_kind: str,
    wanted: Callable[[StationConfig], bool] = lambda station: True,
) -> Made | PostingResult:
    """Serials for the posting's units that have none, made before its transaction:
    not for a session posted already (a retry: `header_kind` names its postings, say
    "receipt"), nor when `wanted` says the station makes none. A refusal comes back as
    the PostingResult."""
    now = datetime.now(UTC)
    try:
        return _prepared(engine, posting, header_kind, wanted, now), now
    except StationError as refusal:
        return PostingResult.refused(refusal.code, refusal.message, refusal.serials)
    except OperationalError:
        raise  # the database cannot be reached: the session keeps its scans
    except DBAPIError as error:
        return refused_by_database(error)


def _prepared(
    engine: Engine,
    posting: Posting,
    header_kind: str,
    wanted: Callable[[StationConfig], bool],
    now: datetime,
) -> dict[int, str]:
    if not pending(posting):
        return {}
    with reading(engine).connect() as connection:
        if documents.posting_by_session(connection, header_kind, posting.session_id) is not None:
            return {}
        station = stations.current(connection, posting.station)
    if not wanted(station):
        return {}
    return generate(engine, posting, now, station)


def pending(posting: Posting) -> list[Entry]:
    """The session's units of serialized products that have no serial yet."""
    lines = posting.document.lines
    return [e for e in posting.entries if e.serial is None and lines[e.line].product.serialized]


def generate(
    engine: Engine, posting: Posting, now: datetime, station: StationConfig
) -> dict[int, str]:
    """A serial for every pending unit (keyed by `id(entry)`), none held by a unit of the
    ledger or scanned in the session. Refuses (a Problem) when a generated serial breaks
    its product's rule, or when serials keep existing after MAX_ROUNDS rounds."""
    waiting = pending(posting)
    if not waiting:
        return {}
    with reading(engine).connect() as connection:
        scope = company.serial_scope(connection)
        charset = company.serial_charset(connection)
    serials = _Serials(posting, station, scope, now)
    try:
        for round_ in range(MAX_ROUNDS):
            waiting = serials.round(engine, waiting, 1 << round_)
            if not waiting:
                serials.check_rules(int(station["serial_length"]), charset)
                return serials.made
        raise Problem(
            Code.SERIAL_GENERATION_FAILED,
            f"Nothing posted: {len(waiting)} unit(s) got no serial — every serial generated"
            f" for them in {MAX_ROUNDS} rounds of new numbers exists already or is scanned in"
            f" this session (the last: {serials.clash}). Change the station's serial_pattern"
            f" ({serials.pattern.text}) and save again.",
        )
    except Problem:
        with engine.begin() as connection:  # a refusal leaves the counters as it found them
            documents.release_numbers(connection, serials.reserved)
        raise


class _Serials:
    """The serials of one posting, made round by round."""

    def __init__(self, posting: Posting, station: StationConfig, scope: str, now: datetime) -> None:
        self.pattern = opts.parse_pattern(str(station["serial_pattern"]))
        self.scope = scope
        lines = posting.document.lines
        self.products = {e.line: lines[e.line].product for e in posting.entries}
        self.fields = {
            product.id: opts.pattern_fields(product.sku, station.name, now)
            for product in self.products.values()
        }
        # The text around {seq} per product; a sequence is named by its serial for 0.
        self.around = {pid: self.pattern.around(fields) for pid, fields in self.fields.items()}
        self.names = {pid: "serial:" + self._serial(pid, 0) for pid in self.around}
        #: (scope id, serial key) pairs no generated serial may take: the session's own.
        self.taken = {
            (company.scope_id(scope, self.products[e.line].id), serial_key(e.serial))
            for e in posting.entries
            if e.serial is not None and self.products[e.line].serialized
        }
        self.made: dict[int, str] = {}
        self.reserved: list[dict[str, range]] = []  # the blocks of each round
        self.numbers: dict[int, list[int]] = {}  # product id -> the numbers its units got
        self.clash = ""  # the last serial found to exist already

    def _serial(self, product_id: int, number: int) -> str:
        head, tail = self.around[product_id]
        return f"{head}{number:{self.pattern.seq_format}}{tail}"

    def round(self, engine: Engine, waiting: list[Entry], per_unit: int) -> list[Entry]:
        """Reserve `per_unit` numbers per waiting unit (one statement, committed at once),
        look their serials up (one read, no lock), give each unit the first free one;
        returns the units still waiting."""
        # sequence name -> product id -> its units still waiting, in session order
        groups: dict[str, dict[int, deque[Entry]]] = {}
        for entry in waiting:
            product_id = self.products[entry.line].id
            group = groups.setdefault(self.names[product_id], {})
            group.setdefault(product_id, deque()).append(entry)
        wanted = {
            name: per_unit * sum(len(waiting) for waiting in group.values())
            for name, group in groups.items()
        }
        with engine.begin() as connection:
            blocks = documents.reserve_numbers(connection, wanted)
        self.reserved.append(blocks)
        candidates = [
            (name, product_id, number, self._serial(product_id, number))
            for name, group in groups.items()
            for product_id in group
            for number in blocks[name]
        ]
        pairs = [
            (company.scope_id(self.scope, product_id), serial_key(serial))
            for _, product_id, _, serial in candidates
        ]
        with reading(engine).connect() as connection:
            existing = units.existing_keys(connection, pairs)
        used: set[tuple[str, int]] = set()  # one unit per number of a sequence
        for (name, product_id, number, serial), pair in zip(candidates, pairs, strict=True):
            waiting = groups[name][product_id]
            if not waiting or (name, number) in used:
                continue
            if pair in existing or pair in self.taken:
                self.clash = serial
                continue
            self.made[id(waiting.popleft())] = serial
            self.numbers.setdefault(product_id, []).append(number)
            self.taken.add(pair)
            used.add((name, number))
        return [e for group in groups.values() for waiting in group.values() for e in waiting]

    def check_rules(self, station_length: int, charset: str) -> None:
        """Each product's (or the station's) serial rules, for the serials made for it."""
        products = {product.id: product for product in self.products.values()}
        for product_id, numbers in self.numbers.items():
            product, fields = products[product_id], self.fields[product_id]
            _check(product, self.pattern, fields, numbers, station_length, charset)


def _check(
    product: Product,
    pattern: opts.SerialPattern,
    fields: Mapping[str, str],
    numbers: list[int],
    station_length: int,
    charset: str,
) -> None:
    """The product's (or the station's) serial rules, for the serials the station made
    with these numbers. Only {seq} varies and its length grows with the number, so the
    lowest and highest numbers stand for every length; a regex is matched on each."""
    rendered = [pattern.render(n, fields) for n in (min(numbers), max(numbers))]
    try:
        regex = product.pattern()
    except ValueError:  # a stored pattern RE2 cannot run: check_generated says so
        regex = None
    if regex is not None:
        rendered += (s for n in numbers if not regex.fullmatch(s := pattern.render(n, fields)))
    try:
        for serial in rendered:
            check_generated(product, serial, station_length, charset)
    except Problem as problem:
        raise Problem(
            problem.code,
            f"Nothing posted: the station's serial_pattern {pattern.text} makes serials"
            f" {product.sku} refuses. {problem.message} Change serial_pattern or scan the"
            f" serials of {product.sku}.",
        ) from None
