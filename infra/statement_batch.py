"""The yearly mailing (社会保险法 art.74): every registered person's statement of a year as a PDF,
all as known at one log position, streamed in pages of persons (memory does not grow with the
region), optionally in several processes.

Layout under the output directory (default `<data dir>/<region>/statements/<year>/`):
`<first two hex digits of the person id>/<person id>.pdf` — no personal data in file names —
and `manifest.csv` (UTF-8 with BOM), one row per statement in person-id order: person id, masked
name and ID number, the file, its verification code and content hash, the person's status at
the year's end (`deceased` for a death in the year: the statement says 已故 and the date) and
the date of death.

Deceased persons: no statement is written for a year after the year of a death recorded at the
position (the result counts them as `not_mailed_deceased`); the year of death is written and
marked.

Access log (查询留痕): the batch reads the record of every person registered at the position.
It is recorded as one AccessRecord.BatchRecorded event — operator, reason, year, position,
persons read, the manifest's sha256 — before the manifest is put in place: if the record cannot
be written, there is no manifest to mail from.

Workers: the person ids are split into ranges by their first hex digit; each worker is a
process forked from multiprocessing's fork server (a fresh interpreter without this process's
threads or connections; cf. docs/decisions/0004) with its own read-model connection, writing
its files and a part of the manifest; the parent shows the progress and joins the parts. No
connection is shared."""

from __future__ import annotations

import csv
import hashlib
import io
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.errors import NotFound
from domain.identity import mask_id_number, mask_name
from infra.bootstrap import Container
from infra.policy_loader import default_policy
from infra.settings import Settings
from infra.statement_pdf import render_pdf
from infra.statement_queries import PERSONS_PER_QUERY_MAX, StatementQueries, check_year
from infra.views_db import BATCH_SESSION_OPTIONS, ViewsDb

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("person_id", "name_masked", "id_number_masked", "file",
                    "verification_code", "content_hash", "status", "date_of_death")
STATEMENT_MAILING = "statement_mailing"  # the reason (查询事由) recorded for the batch read
BATCH_RESOURCE = "CLI shebao statements"  # what read the records, in the access log
COPY_CHUNK_BYTES = 1 << 20
WORKERS_MAX = 16
HEX_DIGITS = "0123456789abcdef"
PROGRESS_POLL_SECONDS = 0.2
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

Progress = Callable[[int, int], None]  # (persons done, persons in all)


@dataclass(frozen=True)
class BatchResult:
    year: int
    position: int
    persons: int  # statements written
    out_dir: Path
    manifest: Path
    seconds: float
    workers: int
    persons_read: int = 0  # every person registered at the position
    not_mailed_deceased: int = 0  # died before the year: no statement written
    manifest_sha256: str = ""
    access_position: int | None = None  # of the access record; None when nobody was read

    @property
    def per_second(self) -> float:
        return self.persons / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class _Job:
    settings: Settings
    year: int
    position: int
    as_of: str
    as_of_day: str
    after: str  # person ids > after …
    before: str | None  # … and < before
    out_dir: Path
    part: Path  # this range's part of the manifest
    public_url: str


def default_out_dir(settings: Settings, year: int) -> Path:
    return settings.region_dir / "statements" / str(year)


def person_ranges(workers: int) -> list[tuple[str, str | None]]:
    """`workers` ranges of person ids (uuid text, uniformly distributed hex) split at first
    hex digits: ("", "8"), ("8", None) for two."""
    bounds = [HEX_DIGITS[(16 * k) // workers] for k in range(1, workers)]
    lows = ["", *bounds]
    highs: list[str | None] = [*bounds, None]
    return list(zip(lows, highs, strict=True))


def write_statements(settings: Settings, year: int, out_dir: Path | None = None,
                     workers: int = 1, public_url: str | None = None,
                     progress: Progress | None = None, *, operator: str,
                     reason_code: str = STATEMENT_MAILING,
                     position: int | None = None) -> BatchResult:
    """`operator`: the staff user running the mailing (an active user: shebao users add), whom
    the access log names with `reason_code`. `position`: the statements as known at this
    earlier log position (the same files as a batch run then); default: the read models'
    position after catching up."""
    check_year(year)
    if not 1 <= workers <= WORKERS_MAX:
        raise ValueError(f"workers must be 1..{WORKERS_MAX}, got {workers}")
    started = time.perf_counter()
    with Container.open(settings) as c:
        # Refused before anything is read: an unknown or deactivated user, an unknown reason.
        principal = c.staff.principal(operator)
        reason = c.access_log.reason(reason_code)
        reached = c.runner.catch_up()
        queries = StatementQueries(c.views, c.store, c.policy, settings.region_code)
        if position is None:
            position = reached
        elif not 0 < position <= reached or queries.as_of(position) is None:
            raise NotFound("position_not_found", f"the log has no event at position {position}"
                           f" (its head is {reached})", field="position")
        as_of = queries.as_of(position)
        total = queries.count_persons(position) if as_of else 0
    out = out_dir or default_out_dir(settings, year)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    url = (public_url or settings.public_url or DEFAULT_PUBLIC_URL).rstrip("/")
    if as_of is None:  # an empty log: nobody to write for, nobody read
        tmp, digest = _join_parts(manifest, [])
        os.replace(tmp, manifest)
        return BatchResult(year, position, 0, out, manifest, 0.0, workers,
                           manifest_sha256=digest)
    jobs = [_Job(settings, year, position, as_of[0], as_of[1], after, before, out,
                 out / f"{MANIFEST}.part{i}", url)
            for i, (after, before) in enumerate(person_ranges(workers))]
    report = progress or (lambda done, all_: None)
    report(0, total)
    if workers == 1 or "forkserver" not in multiprocessing.get_all_start_methods():
        done = 0
        counts = []
        for job in jobs:
            def advance(n: int) -> None:
                nonlocal done
                done += n
                report(done, total)
            counts.append(_write_range(job, advance))
    else:
        counts = _run_forked(jobs, total, report)
    written = sum(w for w, _skipped in counts)
    not_mailed = sum(skipped for _w, skipped in counts)
    tmp, digest = _join_parts(manifest, [job.part for job in jobs])
    access_position = None
    try:
        if total:
            with Container.open(settings) as c:
                access_position = c.access_log.record_batch(
                    principal.username, principal.roles, reason.code, BATCH_RESOURCE,
                    f"statements/{year}", persons_read=total, as_known_at=position,
                    output_sha256=digest, request_id=uuid.uuid4().hex,
                    note=f"{written} statements; {not_mailed} not mailed (died before {year})")
    except BaseException:
        tmp.unlink()  # not recorded: no manifest to mail from
        raise
    os.replace(tmp, manifest)
    return BatchResult(year, position, written, out, manifest, time.perf_counter() - started,
                       workers, total, not_mailed, digest, access_position)


def _run_forked(jobs: list[_Job], total: int, report: Progress) -> list[tuple[int, int]]:
    # Forked from a fresh server process, not from this one: a caller may hold open
    # connections and pool threads (a test's container, an embedding program), and a child
    # forked while one of their locks is held hangs on its first connection.
    context = multiprocessing.get_context("forkserver")
    counts: Any = context.Queue()
    done = 0
    with ProcessPoolExecutor(max_workers=len(jobs), mp_context=context,
                             initializer=_init_worker, initargs=(counts,)) as pool:
        futures: list[Future[tuple[int, int]]] = [pool.submit(_write_range_in_worker, job)
                                                  for job in jobs]
        while not all(f.done() for f in futures):
            try:
                done += counts.get(timeout=PROGRESS_POLL_SECONDS)
                report(done, total)
            except queue.Empty:
                pass
        results = [f.result() for f in futures]  # a worker's error surfaces here
    while True:
        try:
            done += counts.get_nowait()
        except queue.Empty:
            break
    report(done, total)
    return results


_worker_counts: Any = None


def _init_worker(counts: Any) -> None:
    global _worker_counts
    _worker_counts = counts
    stop_with_parent()


def stop_with_parent() -> None:
    """End this worker process (SIGTERM) as soon as the process that started it ends. A worker
    writes a whole range of persons without asking its pool for work, so nothing else would
    stop it: a mailing killed outright (SIGKILL, a closed terminal) went on writing PDFs in two
    orphans for minutes. The fork server that forked the worker outlives the mailing (the
    worker holds its keep-alive pipe), so the parent-death signal would never come; the
    mailing's end is seen on the sentinel multiprocessing gives the worker of its parent."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stop-with-parent", daemon=True).start()


def _write_range_in_worker(job: _Job) -> tuple[int, int]:
    return _write_range(job, _worker_counts.put)


def _write_range(job: _Job, advance: Callable[[int], None]) -> tuple[int, int]:
    """Write the statements of one range of persons, page by page; returns how many were
    written and how many not (died before the year). `advance` counts persons read."""
    views = ViewsDb(job.settings, BATCH_SESSION_OPTIONS)
    written = not_mailed = 0
    try:
        queries = StatementQueries(views, None, default_policy(), job.settings.region_code)
        with job.part.open("w", encoding="utf-8", newline="") as part:
            rows = csv.writer(part)
            after = job.after
            while True:
                persons = queries.persons(job.position, after, job.before,
                                          PERSONS_PER_QUERY_MAX)
                if not persons:
                    break
                for _person_id, found in queries.issue_many(
                        persons, job.year, job.position, job.as_of, job.as_of_day):
                    if found is None:
                        not_mailed += 1
                        continue
                    registration = found.statement.registration
                    relative = Path(registration.person_id[:2]) / f"{registration.person_id}.pdf"
                    target = job.out_dir / relative
                    target.parent.mkdir(exist_ok=True)
                    target.write_bytes(render_pdf(found.statement, found.content_hash,
                                                  found.verification_code,
                                                  found.verify_url(job.public_url)))
                    rows.writerow((registration.person_id, mask_name(registration.name),
                                   mask_id_number(registration.id_number), relative.as_posix(),
                                   found.verification_code, found.content_hash,
                                   registration.status, registration.died_on or ""))
                    written += 1
                advance(len(persons))
                after = persons[-1]
    finally:
        views.close()
    return written, not_mailed


def _join_parts(manifest: Path, parts: list[Path]) -> tuple[Path, str]:
    """The manifest, written beside its place: a header, then each range's rows (ranges and
    rows are in id order). Returns the file and its sha256 (hex), computed while writing; the
    caller puts it in place."""
    tmp = manifest.with_name(manifest.name + ".tmp")
    digest = hashlib.sha256()
    header = io.StringIO(newline="")
    csv.writer(header).writerow(MANIFEST_COLUMNS)
    with tmp.open("wb") as out:
        head = header.getvalue().encode("utf-8-sig")
        out.write(head)
        digest.update(head)
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(COPY_CHUNK_BYTES):
                    out.write(chunk)
                    digest.update(chunk)
            part.unlink()
    return tmp, digest.hexdigest()
