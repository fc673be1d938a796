"""The access log (查询留痕): recording a staff member's read of a person's record as an
`AccessRecord` event before the data goes out, and querying the `access_log` read model.

The access policy (reasons, roles that see clear data) is the data file
`domain/policy_data/access.toml`, or `access.toml` in SHEBAO_POLICY_DIR like the other policy
tables; a bad file stops start-up naming the entry at fault.

Cost of a record: one small event appended (the store's bulk append: the library's mapper, one
transaction), no read. Concurrent reads
share one transaction (infra/group_commit.py) rather than queue one each on the events table's
write lock; scripts/bench_access_log.py measures it. A batch that reads every person's record
(the yearly mailing of statements) records one event for the whole batch (`record_batch`)."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from domain import ids
from domain.access_policy import AccessPolicy, AccessReason
from domain.access_record import AccessRecord
from domain.errors import ValidationFailed
from domain.identity import mask_id_number, mask_name, parse_id_number
from domain.staff import ROLES
from infra.group_commit import GroupCommit
from infra.policy_loader import read_data_file
from infra.store import Store
from infra.views_db import ViewsDb
from projections.access_log import BATCH_PERSON_ID, COLUMNS, TABLE
from projections.person_facts import KEYS as PERSON_KEYS

ACCESS_FILE = "access"
ENTRIES_LIMIT_MAX = 1000
ENTRIES_LIMIT_DEFAULT = 100
CSV_HEADERS_ZH = {
    "position": "日志位置", "accessed_at": "查询时间", "username": "查询人", "roles": "角色",
    "person_id": "人员内部编号", "id_number_masked": "身份证号码(脱敏)",
    "name_masked": "姓名(脱敏)", "resource": "查询内容", "target": "查询对象",
    "reason_code": "事由代码", "reason_name_zh": "查询事由", "note": "备注",
    "request_id": "请求编号", "persons_read": "查询人数",
    "as_known_at": "批量查询数据截至日志位置", "output_sha256": "批量输出文件SHA-256",
}


def load_access_policy(directory: Path | None = None) -> AccessPolicy:
    return AccessPolicy.from_document(read_data_file("policy_data", ACCESS_FILE, directory),
                                      set(ROLES), f"{ACCESS_FILE}.toml")


@lru_cache(maxsize=1)
def default_access_policy() -> AccessPolicy:
    configured = os.environ.get("SHEBAO_POLICY_DIR")
    return load_access_policy(Path(configured) if configured else None)


@dataclass(frozen=True)
class PersonRef:
    """Whose record a read returns, in clear: masked here before anything is recorded."""

    person_id: str
    id_number: str  # "" when the route knows the person by internal id only
    name: str = ""  # "" when the route does not read the name

    @classmethod
    def of_id_number(cls, region_code: str, id_number: str, name: str = "") -> PersonRef:
        number = parse_id_number(id_number).number
        return cls(str(ids.person_id(region_code, number)), number, name)


@dataclass(frozen=True)
class AccessRequest:
    """A read as the staff member asked for it: who, in which roles, why, and the request's
    id (the client's X-Request-Id or one made for it)."""

    username: str
    roles: tuple[str, ...]
    reason: AccessReason
    note: str
    request_id: str


class AccessLog:
    def __init__(self, store: Store, views: ViewsDb, policy: AccessPolicy) -> None:
        self.store = store
        self.views = views
        self.policy = policy
        self.region = store.settings.region_code
        # Concurrent reads share a transaction: the events table takes one writer at a time.
        self._commits: GroupCommit[AccessRecord] = GroupCommit(self._save)

    def record(self, request: AccessRequest, resource: str, persons: Sequence[PersonRef],
               target: str = "") -> int:
        """Record the read of each person's record (an event each, one transaction) and
        return the log position reached (with other reads' records, when they arrived
        together). Raises when it cannot be recorded: then the caller must not return the
        data."""
        assert persons, "a read of nobody's record is not recorded"
        records = [AccessRecord(
            region_code=self.region, request_id=request.request_id, username=request.username,
            roles=list(request.roles), resource=resource, target=target,
            person_id=person.person_id,
            id_number_masked=mask_id_number(person.id_number) if person.id_number else "",
            name_masked=mask_name(person.name), reason_code=request.reason.code,
            note=request.note) for person in persons]
        return self._commits.submit(records)

    def reason(self, code: str) -> AccessReason:
        """A reason of the access policy by code, or a refusal listing the known ones."""
        reason = self.policy.reasons.get(code)
        if reason is None:
            raise ValidationFailed(
                "access_reason_unknown", f"reason {code!r} is not in {ACCESS_FILE}.toml;"
                f" known: {', '.join(sorted(self.policy.reasons))}", field="reason")
        return reason

    def record_batch(self, username: str, roles: Sequence[str], reason_code: str,
                     resource: str, target: str, persons_read: int, as_known_at: int,
                     output_sha256: str, request_id: str, note: str = "") -> int:
        """Record one batch read of the records of every person registered at or before
        `as_known_at` (`persons_read` of them) and the sha256 of its output; returns the log
        position of the record. Refuses a reason the access policy does not list."""
        reason = self.reason(reason_code)
        record = AccessRecord.record_batch(
            region_code=self.region, request_id=request_id, username=username,
            roles=list(roles), resource=resource, target=target, reason_code=reason.code,
            note=note, persons_read=persons_read, as_known_at=as_known_at,
            output_sha256=output_sha256)
        return self._save([record])

    def _save(self, records: list[AccessRecord]) -> int:
        # Each record is a new aggregate of one event: mapped by the library's own mapper and
        # appended in one transaction (infra/store.py `append`, as the bulk paths do), without
        # the library's save pipeline, which cost more than the statement read it records.
        to_stored = self.store.app.mapper.to_stored_event
        return self.store.append([to_stored(event) for record in records
                                  for event in record.collect_events()])

    def entries(self, *, person_id: str | None = None, id_number: str | None = None,
                username: str | None = None, start: date | None = None,
                end: date | None = None, limit: int = ENTRIES_LIMIT_DEFAULT,
                offset: int = 0, before: int | None = None) -> list[dict[str, Any]]:
        """Recorded reads, newest first, filtered by person (internal id or ID number: both
        find the same rows; with the batch reads that read the person's record: those as known
        at or after their registration), user and CST days `start`..`end` (inclusive);
        `before`: only entries at log positions below it (pages that new reads do not
        shift)."""
        if id_number is not None:
            by_number = PersonRef.of_id_number(self.region, id_number).person_id
            if person_id is not None and person_id != by_number:
                raise ValidationFailed("person_filter_conflict", "person_id and id_number name "
                                       "different persons; give one of them",
                                       field="id_number")
            person_id = by_number
        if start and end and start > end:
            raise ValidationFailed("date_range_reversed", f"from {start} is after to {end}",
                                   field="from")
        sql = f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE 1 = 1"
        params: list[Any] = []
        if person_id is not None:
            sql += (" AND (person_id = ? OR (person_id = ? AND as_known_at >= (SELECT position"
                    f" FROM {PERSON_KEYS} WHERE person_id = ?)))")
            params += [person_id, BATCH_PERSON_ID, person_id]
        if username is not None:
            sql += " AND username = ?"
            params.append(username)
        if start is not None:
            sql += " AND accessed_on >= ?"
            params.append(start.isoformat())
        if end is not None:
            sql += " AND accessed_on <= ?"
            params.append(end.isoformat())
        if before is not None:
            sql += " AND position < ?"
            params.append(before)
        sql += " ORDER BY position DESC LIMIT ? OFFSET ?"
        params += [limit, offset]
        return [self._entry(row) for row in self.views.query(sql, params)]

    def write_csv(self, path: Path, progress: Callable[[int], None] | None = None,
                  **filters: Any) -> int:
        """Every entry the filters select, newest first, as CSV under Chinese headers (UTF-8
        with BOM, for Excel), read in pages by position. Returns the rows written."""
        written = 0
        before: int | None = None
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_HEADERS_ZH.values())
            while True:
                page = self.entries(**filters, limit=ENTRIES_LIMIT_MAX, before=before)
                for e in page:
                    writer.writerow([",".join(e[k]) if k == "roles" else e[k]
                                     for k in CSV_HEADERS_ZH])
                written += len(page)
                if progress:
                    progress(written)
                if len(page) < ENTRIES_LIMIT_MAX:
                    return written
                before = page[-1]["position"]

    def _entry(self, row: tuple[Any, ...]) -> dict[str, Any]:
        found = dict(zip(COLUMNS, row, strict=True))
        found["position"] = int(found["position"])
        found["persons_read"] = int(found["persons_read"])
        if found["as_known_at"] is not None:
            found["as_known_at"] = int(found["as_known_at"])
        found["roles"] = [r for r in str(found["roles"]).split(",") if r]
        reason = self.policy.reasons.get(found["reason_code"])
        found["reason_name_zh"] = reason.name_zh if reason else ""  # a code since retired
        return found
