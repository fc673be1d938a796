"""Import of a benefit payment-detail file (待遇支付明细) of the insurances other than the
pension: 210 unemployment, 310 employee medical, 410 work injury, 510 maternity. Other systems
paid these benefits; each line becomes one `BenefitPayment.Paid` (domain/benefit_payment.py)
with its journal Dr `fund:<insurance>`, Cr `bank:payout`.

The rule is all or nothing: a file with any faulty line — a field that fails its check, a
voucher given twice, a person not registered in this region, a voucher on record with other
details (`voucher_conflict`) — is refused as a whole (`benefit_file_refused`) and nothing of it
is recorded; every faulty line goes to an errors file to correct. The simplest honest rule:
the fund's expenditure is either the file's or none of it, never a part a clerk must find.

A line whose voucher is on record with the same details (the same file again, or a month's file
then the quarter's) is `already_paid`: recorded once, counted, not written again. A file whose
every line is already paid changes nothing and says so (`already_imported`).

The valid lines are written in batches of `BATCH_SIZE_MAX` (one transaction each, a progress
step each). Should the process stop between batches, importing the file again records the rest:
the written lines are recognised as already paid."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.benefit_payment import BenefitLine, BenefitPayment
from domain.benefit_payment_line import line_raw
from domain.collection import LineError, LineErrors
from domain.errors import Conflict, ValidationFailed
from domain.registration import Person
from infra.benefit_payment_file import benefit_kinds, read_benefit_file, write_benefit_errors_csv
from infra.bootstrap import Container
from infra.collection_file import CollectionFileError, sha256_of
from projections.benefit_payments import TABLE

BATCH_SIZE_MAX = 2000  # payments per transaction
FAULTY_LINES_MAX = 50_000  # more and reading stops: not a payment-detail file
ERRORS_IN_MESSAGE_MAX = 5  # the first faults named in the refusal; all in the errors file
QUERY_CHUNK = 500

Progress = Callable[[int, int], None]  # (lines written, lines to write)


class BenefitFileRefused(ValidationFailed):
    """A faulty line refused the whole file; nothing was recorded. `errors_file`: every faulty
    line with its faults, to correct and import again."""

    def __init__(self, message: str, errors: Sequence[LineErrors], errors_file: str) -> None:
        super().__init__("benefit_file_refused", message, field="file")
        self.errors = list(errors)
        self.errors_file = errors_file


@dataclass
class BenefitImportSummary:
    file_name: str
    sha256: str
    lines: int = 0
    paid: int = 0  # lines recorded by this import
    already_paid: int = 0  # lines whose voucher was on record with the same details
    already_imported: bool = False  # lines and every one already paid: nothing changed
    amount_fen: int = 0  # recorded by this import
    # insurance → {"payments": n, "amount_fen": fen}, recorded by this import
    by_insurance: dict[str, dict[str, int]] = field(default_factory=dict)
    first_paid_on: str | None = None
    last_paid_on: str | None = None
    position: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def import_benefit_payments(c: Container, path: Path, encoding: str | None = None,
                            errors_path: Path | None = None, imported_by: str = "cli",
                            sha256: str | None = None, today: date | None = None,
                            progress: Progress | None = None) -> BenefitImportSummary:
    """Record every line of the file, or none (BenefitFileRefused with the errors file at
    `errors_path`, default beside the system's temporary files). `sha256`: the caller hashed
    the file already (the API, while saving the upload)."""
    digest = sha256 or sha256_of(path)
    summary = BenefitImportSummary(path.name, digest)
    lines: list[BenefitLine] = []
    faulty: list[LineErrors] = []
    for item in read_benefit_file(path, c.policy, benefit_kinds(), today or date.today(),
                                  encoding):
        summary.lines += 1
        if isinstance(item, LineErrors):
            faulty.append(item)
            if len(faulty) > FAULTY_LINES_MAX:
                raise CollectionFileError(
                    path, f"more than {FAULTY_LINES_MAX:,} faulty lines (the first at line "
                    f"{faulty[0].line_no}: {', '.join(faulty[0].codes)}); is it a benefit "
                    "payment-detail file? Nothing was recorded", code="benefit_file_mostly_invalid")
        else:
            lines.append(item)
    person_ids = _registered_persons(c, lines, faulty)
    fresh = _unpaid(c, lines, person_ids, faulty)
    if faulty:
        faulty.sort(key=lambda group: group.line_no)
        out = errors_path or Path(tempfile.gettempdir()) / f"{path.stem}.errors.csv"
        write_benefit_errors_csv(faulty, out)
        named = "; ".join(f"line {e.line_no}: {e.message}"
                          for group in faulty[:ERRORS_IN_MESSAGE_MAX] for e in group.errors)
        raise BenefitFileRefused(
            f"{path.name}: {len(faulty):,} of {summary.lines:,} lines are faulty, so nothing of "
            f"the file was recorded (a file is recorded whole or not at all). {named}. Every "
            f"faulty line is in {out}: correct the lines and import the whole file again",
            faulty, str(out))
    summary.already_paid = len(lines) - len(fresh)
    summary.already_imported = bool(lines) and not fresh
    summary.position = c.store.max_position()
    if progress:
        progress(0, len(fresh))
    region = c.settings.region_code
    for start in range(0, len(fresh), BATCH_SIZE_MAX):
        batch = fresh[start:start + BATCH_SIZE_MAX]
        payments = [BenefitPayment.record(region, person_ids[line.id_number], line, digest,
                                          imported_by) for line in batch]
        try:
            recordings = c.store.app.save(*payments)
        except IntegrityError:
            raise Conflict(
                "benefit_import_concurrent",
                f"{path.name}: another import recorded some of these vouchers meanwhile; "
                f"{summary.paid:,} lines of this file were recorded before it; import the file "
                "again: the lines on record are recognised as already paid") from None
        summary.position = recordings[-1].notification.id
        for line in batch:
            summary.paid += 1
            summary.amount_fen += line.amount_fen
            per = summary.by_insurance.setdefault(line.insurance,
                                                  {"payments": 0, "amount_fen": 0})
            per["payments"] += 1
            per["amount_fen"] += line.amount_fen
        if progress:
            progress(start + len(batch), len(fresh))
    days = [line.paid_on for line in lines]
    summary.first_paid_on, summary.last_paid_on = min(days, default=None), max(days, default=None)
    return summary


def _registered_persons(c: Container, lines: list[BenefitLine], faulty: list[LineErrors]
                        ) -> dict[str, str]:
    """ID number → person id of the lines' persons registered in this region; a line of
    anyone else is faulty (`person_not_registered`)."""
    region = c.settings.region_code
    ids = {number: Person.create_id(region, number) for number in {ln.id_number for ln in lines}}
    found: set[UUID] = set()
    wanted = list(ids.values())
    for i in range(0, len(wanted), QUERY_CHUNK):
        found |= c.store.existing(wanted[i:i + QUERY_CHUNK])
    for line in lines:
        if ids[line.id_number] not in found:
            number = line.id_number
            faulty.append(_fault(line, "id_number", "person_not_registered",
                                 f"id_number: no insured person {number[:6]}…{number[-4:]} is "
                                 f"registered in region {region}; register the person first"))
    return {number: str(uuid) for number, uuid in ids.items() if uuid in found}


def _unpaid(c: Container, lines: list[BenefitLine], person_ids: dict[str, str],
            faulty: list[LineErrors]) -> list[BenefitLine]:
    """The lines whose voucher is not on record yet. A voucher on record with the same details
    is already paid (left out); with other details the line is faulty (`voucher_conflict`)."""
    region = c.settings.region_code
    payment_ids = {line.unique_key: BenefitPayment.create_id(region, *line.unique_key)
                   for line in lines}
    wanted = list(payment_ids.values())
    existing: set[UUID] = set()
    for i in range(0, len(wanted), QUERY_CHUNK):
        existing |= c.store.existing(wanted[i:i + QUERY_CHUNK])
    if not existing:
        return list(lines)
    recorded = _recorded(c, existing)
    fresh: list[BenefitLine] = []
    for line in lines:
        payment_id = payment_ids[line.unique_key]
        if payment_id not in existing:
            fresh.append(line)
            continue
        on_record = recorded[payment_id]
        person_id = person_ids.get(line.id_number)
        if person_id is None:
            continue  # faulty already: not registered
        if on_record[:5] != (person_id, line.kind, line.period, line.paid_on, line.amount_fen):
            faulty.append(_fault(
                line, "voucher", "voucher_conflict",
                f"voucher: {line.voucher!r} of insurance {line.insurance} is on record (file "
                f"{on_record[5][:12]}…, line {on_record[6]}) with another person, kind, period, "
                "date or amount; a voucher is one payment: check the voucher number"))
    return fresh


def _recorded(c: Container, payment_ids: set[UUID]
              ) -> dict[UUID, tuple[str, str, str, str, int, str, int]]:
    """The recorded details of these payments: (person, kind, period, paid_on, amount, file
    sha256, line), from the read model, or from the store for those it has not caught up with
    (another import's, just written)."""
    c.runner.catch_up()
    wanted = sorted(payment_ids, key=str)
    found: dict[UUID, tuple[str, str, str, str, int, str, int]] = {}
    for i in range(0, len(wanted), QUERY_CHUNK):
        part = [str(u) for u in wanted[i:i + QUERY_CHUNK]]
        for payment_id, *values in c.views.query(
                "SELECT payment_id, person_id, kind, period, paid_on, amount_fen, file_sha256,"
                f" line_no FROM {TABLE} WHERE payment_id IN ({','.join('?' * len(part))})",
                part):
            person, kind, period, paid_on, amount, sha, line_no = values
            found[UUID(str(payment_id))] = (str(person), str(kind), str(period), str(paid_on),
                                            int(amount), str(sha), int(line_no))
    for payment_id in payment_ids - set(found):
        p: BenefitPayment = c.store.app.repository.get(payment_id)
        found[payment_id] = (p.person_id, p.kind, p.period, p.paid_on, p.amount_fen,
                             p.file_sha256, p.line_no)
    return found


def _fault(line: BenefitLine, field_name: str, code: str, message: str) -> LineErrors:
    raw = line_raw(line, benefit_kinds())
    return LineErrors(line.line_no, raw, (LineError(line.line_no, field_name, code, message,
                                                    raw),))
