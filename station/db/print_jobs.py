"""SQL for print jobs and label data (SPEC §6): every job is recorded against its
document so it can be retried or reprinted; labels need a product's name and GTIN."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from station.db.models import Barcode, PrintJob, Product, utcnow


@dataclass(frozen=True, slots=True)
class NewJob:
    printer: str
    document_kind: str
    document_number: str
    label: str
    payload: bytes
    station: str | None = None


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: int
    printer: str
    document_kind: str
    document_number: str
    label: str
    payload: bytes
    status: str
    error: str | None
    attempts: int
    created_at: datetime
    printed_at: datetime | None


@dataclass(frozen=True, slots=True)
class JobResult:
    id: int
    error: str | None  # None: printed


def _record(job: PrintJob) -> JobRecord:
    return JobRecord(
        job.id,
        job.printer,
        job.document_kind,
        job.document_number,
        job.label,
        job.payload,
        job.status,
        job.error,
        job.attempts,
        job.created_at,
        job.printed_at,
    )


def add_jobs(engine: Engine, jobs: Sequence[NewJob]) -> list[int]:
    """Record jobs as queued, in one transaction; their ids in the same order."""
    with Session(engine) as session, session.begin():
        rows = [
            PrintJob(
                printer=job.printer,
                station=job.station,
                document_kind=job.document_kind,
                document_number=job.document_number,
                label=job.label,
                payload=job.payload,
                status="queued",
                attempts=0,
            )
            for job in jobs
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def finish_jobs(engine: Engine, results: Sequence[JobResult]) -> None:
    """Mark each job printed or failed (with its error) and count the attempt."""
    now = utcnow()
    with Session(engine) as session, session.begin():
        for result in results:
            values: dict[str, object] = {
                "attempts": PrintJob.attempts + 1,
                "status": "failed" if result.error else "printed",
                "error": result.error,
            }
            if result.error is None:
                values["printed_at"] = now
            session.execute(update(PrintJob).where(PrintJob.id == result.id).values(**values))


def get_job(engine: Engine, job_id: int) -> JobRecord | None:
    with Session(engine) as session:
        job = session.get(PrintJob, job_id)
        return _record(job) if job else None


def jobs_for_document(engine: Engine, document_kind: str, document_number: str) -> list[JobRecord]:
    query = (
        select(PrintJob)
        .where(PrintJob.document_kind == document_kind)
        .where(PrintJob.document_number == document_number)
        .order_by(PrintJob.id)
    )
    with Session(engine) as session:
        return [_record(job) for job in session.scalars(query)]


def jobs_for_number(
    engine: Engine, document_number: str, document_kind: str | None = None
) -> list[JobRecord]:
    """Every job recorded for a document number (of any kind unless one is named)."""
    query = select(PrintJob).where(PrintJob.document_number == document_number)
    if document_kind is not None:
        query = query.where(PrintJob.document_kind == document_kind)
    with Session(engine) as session:
        return [_record(job) for job in session.scalars(query.order_by(PrintJob.id))]


def queued_jobs(engine: Engine, printer: str, station: str | None = None) -> list[JobRecord]:
    """Jobs recorded but never finished (the station stopped while printing); only the
    named station's when one is named."""
    query = (
        select(PrintJob)
        .where(PrintJob.printer == printer, PrintJob.status == "queued")
        .order_by(PrintJob.id)
    )
    if station is not None:
        query = query.where(PrintJob.station == station)
    with Session(engine) as session:
        return [_record(job) for job in session.scalars(query)]


def product_for_label(engine: Engine, sku: str) -> tuple[str, str | None] | None:
    """A product's name and its first GTIN-14 (None without one); None for an unknown SKU."""
    with Session(engine) as session:
        product = session.scalars(select(Product).where(Product.sku == sku)).first()
        if product is None:
            return None
        gtin = session.scalars(
            select(Barcode.gtin)
            .where(Barcode.product_id == product.id, Barcode.gtin.is_not(None))
            .order_by(Barcode.id)
        ).first()
        return product.name, gtin
