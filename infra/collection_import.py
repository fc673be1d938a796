"""Import of a tax-bureau collection file (税务征收明细): every line ends as exactly one of
posted (its month posted, with the line's serial number in the event), duplicate (its month
was posted before from the same serial numbers), suspense (collected money that cannot be
posted, held with the reason), or rejected (invalid: written to a rejects file, nothing
posted). Importing the same file again (same sha256) changes nothing and says so.

Pipeline, memory bounded whatever the file size:
1. read and validate line by line (infra/collection_file.py); valid lines are staged in the
   read-model database, rejected ones written to the rejects file as they come; a file-level
   fault (bad header, undecodable bytes) stops here with nothing recorded;
2. the staged lines come back sorted by person and period, so one person-month's insurances
   arrive together and become one posting request: the collected amounts, the assessment from
   the person's declared base, the serial numbers;
3. the requests go through the bulk path; lines it cannot post go to suspense;
4. the ImportBatch records the summary, so the outcome is reproducible from events."""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from domain import ids
from domain.collection import CollectionLine, LineErrors
from domain.import_batch import COLLECTION_FILE, ImportBatch
from domain.suspense import SuspenseItem, suspense_journal
from infra.bootstrap import Container
from infra.bulk_posting import BATCH_SIZE_MAX, BulkPoster, PostingRequest
from infra.collection_file import (
    CollectionFileError,
    read_collection_file,
    sha256_of,
    write_rejects_csv,
)

STAGING = "collection_staging"
STAGE_ROWS_PER_COPY = 10_000
REJECTED_LINES_MAX = 100_000  # more than this and the file is refused whole: a wrong format
SUSPENSE_SAVE_BATCH = 1000
OUTCOMES = ("posted", "duplicate", "suspense", "rejected")

Progress = Callable[[str, int], None]  # (stage, lines done in this call)


@dataclass
class ImportSummary:
    file_name: str
    sha256: str
    batch_id: str
    already_imported: bool = False
    lines: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    amounts_fen: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    by_insurance: dict[str, dict[str, int]] = field(default_factory=dict)  # ins → outcome → fen
    suspense_reasons: dict[str, int] = field(default_factory=dict)
    rejects_file: str | None = None
    position: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)  # read, post

    def count(self, outcome: str, amount_fen: int, insurance: str | None, lines: int = 1
              ) -> None:
        self.counts[outcome] += lines
        self.amounts_fen[outcome] += amount_fen
        if insurance is not None:
            per = self.by_insurance.setdefault(insurance, dict.fromkeys(OUTCOMES, 0))
            per[outcome] += amount_fen

    def as_dict(self) -> dict[str, Any]:
        return {"file_name": self.file_name, "sha256": self.sha256, "batch_id": self.batch_id,
                "already_imported": self.already_imported, "lines": self.lines,
                "counts": self.counts, "amounts_fen": self.amounts_fen,
                "by_insurance": self.by_insurance, "suspense_reasons": self.suspense_reasons,
                "rejects_file": self.rejects_file, "position": self.position,
                "stage_seconds": self.stage_seconds}


def import_collections(c: Container, path: Path, encoding: str | None = None,
                       rejects_path: Path | None = None, imported_by: str = "cli",
                       progress: Progress | None = None, sha256: str | None = None
                       ) -> ImportSummary:
    report = progress or (lambda stage, n: None)
    region = c.settings.region_code
    # The API hashed the upload while saving it; the CLI has the file only.
    digest = sha256 or sha256_of(path)
    batch_id = ImportBatch.create_id(region, digest)
    summary = ImportSummary(path.name, digest, str(batch_id))
    existing = c.store.existing([batch_id])
    if existing:
        batch: ImportBatch = c.store.app.repository.get(batch_id)
        if batch.completed and batch.summary is not None:
            done = ImportSummary(**{**batch.summary, "already_imported": True})
            done.position = c.store.max_position()
            return done

    # 1. read, validate, stage; rejected lines to the rejects file
    started = time.perf_counter()
    _create_staging(c)
    _clear_staging(c, batch_id)
    rejects = rejects_path or Path(tempfile.gettempdir()) / f"{path.stem}.rejects.csv"
    rejected: list[LineErrors] = []
    try:
        staged = 0
        rows: list[tuple[Any, ...]] = []
        for item in read_collection_file(path, c.policy, encoding):
            summary.lines += 1
            if isinstance(item, LineErrors):
                rejected.append(item)
                summary.count("rejected", 0, None)
                if len(rejected) > REJECTED_LINES_MAX:
                    raise CollectionFileError(
                        path, f"more than {REJECTED_LINES_MAX:,} invalid lines (the first at "
                        f"line {rejected[0].line_no}: {', '.join(rejected[0].codes)}); is it "
                        "a collection detail file? Nothing was imported",
                        code="collection_file_mostly_invalid")
                continue
            rows.append(_staging_row(batch_id, item))
            if len(rows) >= STAGE_ROWS_PER_COPY:
                staged += _stage(c, rows)
                report("read", len(rows))
                rows = []
        if rows:
            staged += _stage(c, rows)
            report("read", len(rows))
    except BaseException:
        _clear_staging(c, batch_id)
        raise
    if rejected:
        write_rejects_csv(rejected, rejects)
        summary.rejects_file = str(rejects)
    # Rejected lines are kept in memory to write the rejects file once: at most
    # REJECTED_LINES_MAX of them, a file with more is refused whole above.

    summary.stage_seconds["read"] = round(time.perf_counter() - started, 3)

    # 2.-3. post person-months, suspense for what cannot be posted
    started = time.perf_counter()
    if not existing:
        c.store.app.save(ImportBatch(region_code=region, kind=COLLECTION_FILE,
                                     file_name=path.name, sha256=digest,
                                     size_bytes=path.stat().st_size, started_by=imported_by))
    c.runner.catch_up()  # declared bases up to date for the assessment
    poster = BulkPoster(c.store, c.policy, f"tax:{batch_id}",
                        hold_differences=c.policy.matching.holds_differences)
    suspense: list[tuple[SuspenseItem, str]] = []
    any_backpay_open = _any_backpay_open(c)
    for chunk in _chunks(_months(c, batch_id), BATCH_SIZE_MAX):
        bases = _declared_bases(c, chunk)
        backpays = _open_backpays(c, chunk) if any_backpay_open else {}
        # Without a declared base, say why: the person is unknown, or just has no base that year.
        no_base = [ids.person_id(region, m[0].id_number) for m in chunk
                   if (ids.person_id(region, m[0].id_number), int(m[0].period[:4])) not in bases]
        registered = c.store.existing(no_base)
        requests: list[PostingRequest] = []
        month_rows: list[list[CollectionLine]] = []
        for month in chunk:
            first = month[0]
            person = ids.person_id(region, first.id_number)
            base_fen = bases.get((person, int(first.period[:4])))
            backpay = backpays.get((str(person), first.period))
            held = (("backpay_open",
                     f"back-payment {backpay} covers this month: apply these lines to its "
                     f"collection (shebao backpay collect {backpay} --from-suspense SERIAL …)")
                    if backpay else
                    _hold_reason(month, base_fen, base_fen is not None or person in registered))
            if held is not None:
                suspense.extend(_suspend(c, batch_id, month, *held, summary))
                continue
            assert base_fen is not None
            requests.append(PostingRequest(
                first.id_number, first.credit_code, first.period, base_fen,
                tuple(r.insurance for r in month),
                tuple((r.insurance, r.base_fen, r.employer_fen, r.individual_fen) for r in month),
                tuple(r.serial_no for r in month)))
            month_rows.append(month)
        # One batch per call, mapped back to its lines: one process (a forked worker would only
        # pay off across batches, and this may run inside the API server).
        result = poster.post(requests, keep_posted=True, worker=False)
        summary.position = max(summary.position, result.position)
        for outcome, month in zip(result.outcomes, month_rows, strict=True):
            status = outcome.status
            if status == "duplicate" and not _same_serials(c, month):
                status, code, reason = "suspense", "collected_twice", (
                    "this month is posted already from other serial numbers: collected twice")
            elif status == "rejected":
                code, reason = outcome.code, outcome.message
                status = "suspense"
            if status == "suspense":
                suspense.extend(_suspend(c, batch_id, month, code, reason, summary))
                continue
            for r in month:
                summary.count(status, r.total_fen, r.insurance)
        if len(suspense) >= SUSPENSE_SAVE_BATCH:
            _save_new(c, suspense, summary)
        report("posted", sum(len(m) for m in chunk))
    _save_new(c, suspense, summary)

    summary.stage_seconds["post"] = round(time.perf_counter() - started, 3)

    # 4. the batch's summary, as an event
    batch = c.store.app.repository.get(batch_id)
    batch.complete(summary=summary.as_dict(),
                   rejects_sha256=sha256_of(rejects) if summary.rejects_file else None)
    recordings = c.store.app.save(batch)
    summary.position = max(summary.position, recordings[-1].notification.id)
    _clear_staging(c, batch_id)
    return summary


# -- staging --------------------------------------------------------------------------------

STAGING_COLUMNS = ("batch_id", "line_no", "serial_no", "credit_code", "id_number", "insurance",
                   "period", "base_fen", "employer_fen", "individual_fen", "collected_on",
                   "tax_batch")


def _create_staging(c: Container) -> None:
    big = "BIGINT" if c.views.dialect == "postgres" else "INTEGER"
    with c.views.transaction() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {STAGING} (batch_id TEXT NOT NULL,"
            f" line_no {big} NOT NULL, serial_no TEXT NOT NULL, credit_code TEXT NOT NULL,"
            " id_number TEXT NOT NULL, insurance TEXT NOT NULL, period TEXT NOT NULL,"
            f" base_fen {big} NOT NULL, employer_fen {big} NOT NULL,"
            f" individual_fen {big} NOT NULL, collected_on TEXT NOT NULL,"
            " tax_batch TEXT NOT NULL)")


def _clear_staging(c: Container, batch_id: UUID) -> None:
    with c.views.transaction() as cur:
        cur.execute(f"DELETE FROM {STAGING} WHERE batch_id = ?", (str(batch_id),))


def _staging_row(batch_id: UUID, line: CollectionLine) -> tuple[Any, ...]:
    return (str(batch_id), line.line_no, line.serial_no, line.credit_code, line.id_number,
            line.insurance, line.period, line.base_fen, line.employer_fen, line.individual_fen,
            line.collected_on, line.tax_batch)


def _stage(c: Container, rows: list[tuple[Any, ...]]) -> int:
    with c.views.transaction() as cur:
        cur.copy_rows(STAGING, STAGING_COLUMNS, rows)
    return len(rows)


def _months(c: Container, batch_id: UUID) -> Iterator[list[CollectionLine]]:
    """Staged lines grouped by person and period (all insurances of one month together)."""
    sql = (f"SELECT {', '.join(STAGING_COLUMNS[1:])} FROM {STAGING} WHERE batch_id = ?"
           " ORDER BY id_number, period, credit_code, insurance, line_no")
    with c.views.stream(sql, (str(batch_id),)) as rows:
        lines = (CollectionLine(*row) for row in rows)
        for _key, group in itertools.groupby(lines, key=lambda r: (r.id_number, r.period)):
            yield list(group)


def _chunks(months: Iterator[list[CollectionLine]], size: int
            ) -> Iterator[list[list[CollectionLine]]]:
    while chunk := list(itertools.islice(months, size)):
        yield chunk


# -- matching -------------------------------------------------------------------------------

def _declared_bases(c: Container, chunk: list[list[CollectionLine]]
                    ) -> dict[tuple[UUID, int], int]:
    region = c.settings.region_code
    wanted = {(ids.person_id(region, m[0].id_number), int(m[0].period[:4])) for m in chunk}
    persons = sorted({str(p) for p, _y in wanted})
    found: dict[tuple[UUID, int], int] = {}
    for i in range(0, len(persons), 500):
        part = persons[i:i + 500]
        rows = c.views.query(
            f"SELECT person_id, year, base_fen FROM person_bases WHERE person_id IN"
            f" ({','.join('?' * len(part))})", part)
        for person_id, year, base_fen in rows:
            key = (UUID(person_id), int(year))
            if key in wanted:
                found[key] = int(base_fen)
    return found


def _any_backpay_open(c: Container) -> bool:
    rows = c.views.query("SELECT 1 FROM backpay_months WHERE status = 'assessed' LIMIT 1")
    return bool(rows)


def _open_backpays(c: Container, chunk: list[list[CollectionLine]]
                   ) -> dict[tuple[str, str], str]:
    """(person id, period) → id of the open back-payment assessment covering that month: its
    collected lines belong to the back-payment, not to an ordinary posting."""
    region = c.settings.region_code
    wanted = {(str(ids.person_id(region, m[0].id_number)), m[0].period) for m in chunk}
    persons = sorted({p for p, _period in wanted})
    found: dict[tuple[str, str], str] = {}
    for i in range(0, len(persons), 500):
        part = persons[i:i + 500]
        rows = c.views.query(
            "SELECT person_id, period, backpay_id FROM backpay_months WHERE status ="
            f" 'assessed' AND person_id IN ({','.join('?' * len(part))})", part)
        for person_id, period, backpay_id in rows:
            if (person_id, period) in wanted:
                found[(person_id, period)] = str(backpay_id)
    return found


def _hold_reason(month: list[CollectionLine], base_fen: int | None, registered: bool
                 ) -> tuple[str, str] | None:
    """Why a month's lines cannot become one posting, before trying to post them."""
    if not registered:
        return ("person_not_registered", "no insured person with this ID number in the region")
    if len({r.credit_code for r in month}) > 1:
        return ("two_employers_in_month",
                "lines of one person and month name more than one employer")
    if len({r.insurance for r in month}) < len(month):
        return ("insurance_twice_in_month", "an insurance appears twice for this person and month")
    if base_fen is None:
        return ("no_assessment", f"no contribution base declared for {month[0].period[:4]}: "
                "nothing was assessed for this month")
    return None


def _same_serials(c: Container, month: list[CollectionLine]) -> bool:
    """Was the month on record posted from exactly these serial numbers (a replayed line)?"""
    from domain.contribution import ContributionMonth

    person = ids.person_id(c.settings.region_code, month[0].id_number)
    existing: ContributionMonth = c.store.app.repository.get(
        ContributionMonth.create_id(str(person), month[0].period))
    return sorted(existing.serials) == sorted(r.serial_no for r in month)


def _suspend(c: Container, batch_id: UUID, month: list[CollectionLine], code: str, reason: str,
             summary: ImportSummary) -> list[tuple[SuspenseItem, str]]:
    return [(SuspenseItem(
        region_code=c.settings.region_code, serial_no=r.serial_no, batch_id=str(batch_id),
        line_no=r.line_no, line={k: getattr(r, k) for k in STAGING_COLUMNS[2:]},
        amount_fen=r.total_fen, reason_code=code, reason=reason,
        journal=suspense_journal(r.total_fen)), r.insurance) for r in month]


def _save_new(c: Container, items: list[tuple[SuspenseItem, str]],
              summary: ImportSummary) -> None:
    """Save the suspense items not held already: a serial number held before (from another
    file, or an interrupted run of this one) is a duplicate, not new money."""
    if not items:
        return
    known = c.store.existing(item.id for item, _ins in items)
    fresh = []
    for item, insurance in items:
        if item.id in known:
            summary.count("duplicate", item.amount_fen, insurance)
            continue
        fresh.append(item)
        summary.count("suspense", item.amount_fen, insurance)
        summary.suspense_reasons[item.reason_code] = (
            summary.suspense_reasons.get(item.reason_code, 0) + 1)
    if fresh:
        recordings = c.store.app.save(*fresh)
        summary.position = max(summary.position, recordings[-1].notification.id)
    items.clear()
