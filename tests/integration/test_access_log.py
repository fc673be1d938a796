"""The access log (查询留痕) on SQLite and PostgreSQL: a recorded read becomes an AccessRecord
event with no clear personal data in it, the `access_log` read model finds it by person (id or
ID number), user and CST day, a rebuild equals the incrementally kept rows, concurrent reads all
get recorded, the hash chain covers the records, and the command line lists and exports them."""

from __future__ import annotations

import csv
import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from domain.access_record import AccessRecord
from domain.errors import ValidationFailed
from domain.identity import mask_id_number
from infra.access_log import AccessRequest, PersonRef
from infra.bootstrap import Container
from infra.integrity import verify
from tests.helpers import make_id_number, read_model_rows, seed_region

RESOURCE = "GET /v1/persons/{id_number}"


def request(container: Container, username: str = "teller1", roles: tuple[str, ...] = ("teller",),
            reason: str = "counter_service", note: str = "", request_id: str = "req-1",
            ) -> AccessRequest:
    return AccessRequest(username, roles, container.access_log.policy.reasons[reason], note,
                         request_id)


def person(container: Container, seq: int, name: str = "欧阳娜娜") -> PersonRef:
    return PersonRef.of_id_number(container.settings.region_code, make_id_number(seq), name)


def test_a_read_is_recorded_with_who_what_why_and_no_clear_personal_data(
        container: Container) -> None:
    region = seed_region(container, persons=1)
    number = region.id_numbers[0]
    ref = PersonRef(region.person_ids[0], number, "欧阳娜娜")
    position = container.access_log.record(
        request(container, reason="complaint", note="投诉 TS-2024-001"), RESOURCE, [ref])
    container.runner.catch_up()
    [entry] = container.access_log.entries(person_id=region.person_ids[0])
    assert entry["position"] == position
    assert entry["username"] == "teller1" and entry["roles"] == ["teller"]
    assert entry["id_number_masked"] == mask_id_number(number) == number[:6] + "*" * 8 + number[-4:]
    assert entry["name_masked"] == "欧阳**"
    assert entry["resource"] == RESOURCE and entry["target"] == ""
    assert (entry["reason_code"], entry["reason_name_zh"]) == ("complaint", "投诉处理")
    assert entry["note"] == "投诉 TS-2024-001" and entry["request_id"] == "req-1"
    at = datetime.fromisoformat(entry["accessed_at"])
    assert at.utcoffset() == timedelta(hours=8) and entry["accessed_on"] == at.date().isoformat()
    assert abs(at - datetime.now(tz=at.tzinfo)) < timedelta(minutes=5)
    # the stored event holds neither the ID number nor the name in clear
    with container.store.chain_rows(position - 1) as rows:
        [(_, _, _, topic, state)] = list(rows)
    assert topic.endswith("AccessRecord.Recorded")
    assert number.encode() not in state and "欧阳娜娜".encode() not in state
    assert "欧阳娜娜".encode("unicode_escape") not in state
    # appended by the store, not the library's save: still an aggregate the library reads back
    stored = container.store.app.repository.get(UUID(entry["record_id"]))
    assert isinstance(stored, AccessRecord) and stored.version == 1
    assert (stored.username, stored.reason_code, stored.person_id) == (
        "teller1", "complaint", region.person_ids[0])


def test_the_log_is_found_by_person_id_or_number_user_and_day(container: Container) -> None:
    log = container.access_log
    a, b = person(container, 1), person(container, 2, "张三")
    log.record(request(container), RESOURCE, [a])
    log.record(request(container, "auditor1", ("auditor",), "audit"), RESOURCE, [a, b],
               target="case-9")
    log.record(request(container, "teller2"), RESOURCE, [b])
    container.runner.catch_up()

    def users(**filters: object) -> list[str]:
        return [e["username"] for e in log.entries(**filters)]  # type: ignore[arg-type]

    assert users(person_id=a.person_id) == ["auditor1", "teller1"]  # newest first
    assert users(id_number=a.id_number) == users(person_id=a.person_id)
    assert users(id_number=b.id_number, username="auditor1") == ["auditor1"]
    assert [e["name_masked"] for e in log.entries(person_id=b.person_id)] == ["张*", "张*"]
    today = date.fromisoformat(log.entries(limit=1)[0]["accessed_on"])
    assert len(log.entries(start=today, end=today)) == 4
    assert log.entries(start=today + timedelta(days=1)) == []
    assert log.entries(end=today - timedelta(days=1)) == []
    assert users(limit=2) == ["teller2", "auditor1"]
    assert users(limit=2, offset=2) == ["auditor1", "teller1"]
    newest = log.entries(limit=1)[0]["position"]
    assert users(before=newest, limit=1) == ["auditor1"]
    with pytest.raises(ValidationFailed) as info:
        log.entries(person_id=a.person_id, id_number=b.id_number)
    assert info.value.code == "person_filter_conflict"
    with pytest.raises(ValidationFailed) as info:
        log.entries(start=today, end=today - timedelta(days=1))
    assert info.value.code == "date_range_reversed"
    with pytest.raises(ValidationFailed) as info:
        log.entries(id_number="440781")
    assert info.value.code == "id_number_malformed"


def test_concurrent_reads_are_each_recorded_once(container: Container) -> None:
    threads, reads = 12, 15
    positions: list[int] = []
    lock = threading.Lock()

    def reader(k: int) -> None:
        for i in range(reads):
            done = container.access_log.record(
                request(container, f"teller{k}", request_id=f"{k}-{i}"), RESOURCE,
                [person(container, k)])
            with lock:
                positions.append(done)

    workers = [threading.Thread(target=reader, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(120)
    assert len(positions) == threads * reads
    container.runner.catch_up()
    entries = container.access_log.entries(limit=1000)
    assert sorted(e["request_id"] for e in entries) == sorted(
        f"{k}-{i}" for k in range(threads) for i in range(reads))
    # each caller got back a position at or after its own record
    by_request = {e["request_id"]: e["position"] for e in entries}
    assert max(positions) == max(by_request.values())


def test_rebuilding_the_access_log_gives_the_rows_kept_incrementally(
        container: Container) -> None:
    region = seed_region(container, persons=2)
    log = container.access_log
    for i in range(9):
        number = region.id_numbers[i % 2]
        log.record(request(container, f"user{i % 3}", request_id=f"r{i}"), RESOURCE,
                   [PersonRef(region.person_ids[i % 2], number, f"测试{i}")])
        if i % 2:  # other events between
            container.ledger.register_person(make_id_number(100 + i), "其他",
                                             registered_on="2015-01-01")
        container.runner.catch_up(page_size=3)
    incremental = read_model_rows(container)
    assert len(incremental["access_log"]) == 9
    container.runner.rebuild(["access_log"])
    assert read_model_rows(container) == incremental
    container.runner.rebuild()
    assert read_model_rows(container) == incremental


def test_the_hash_chain_covers_access_records(container: Container) -> None:
    position = container.access_log.record(request(container), RESOURCE, [person(container, 3)])
    container.runner.catch_up()
    assert verify(container.store, container.runner.chain).status == "ok"
    store = container.store
    statement = (f"UPDATE {store.events_table} SET state = ? WHERE {store.position_column} = ?")
    with container.store.chain_rows(position - 1) as rows:
        [(_, _, _, _, state)] = list(rows)
    forged = state.replace(b"counter_service", b"audit__________")
    assert forged != state
    with store.raw_events_cursor() as cur:
        cur.execute(statement.replace("?", "%s") if store.is_postgres else statement,
                    (forged, position))
    result = verify(container.store, container.runner.chain)
    assert [(f.position, f.kind) for f in result.findings] == [(position, "edited")]


def test_the_command_line_lists_and_exports_the_log(container: Container,
                                                     tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    a, b = person(container, 4, "司马光"), person(container, 5)
    container.access_log.record(request(container), RESOURCE, [a])
    container.access_log.record(request(container, "auditor1", ("auditor",), "audit"),
                                RESOURCE, [b])
    s = container.settings
    options = ["--region", s.region_code, "--data-dir", str(s.data_dir)]
    if s.pg_dsn:
        options += ["--pg-dsn", s.pg_dsn]
    runner = CliRunner(env={"COLUMNS": "250"})
    export = tmp_path / "log.csv"
    result = runner.invoke(app, [*options, "access-log", "--person", a.id_number, "--csv",
                                 str(export)])
    assert result.exit_code == 0, result.output
    assert "司马*" in result.output and "teller1" in result.output
    assert "auditor1" not in result.output and a.id_number not in result.output
    with export.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["日志位置", "查询时间", "查询人", "角色"]
    assert len(rows) == 2 and rows[1][2] == "teller1" and rows[1][5] == mask_id_number(
        a.id_number) and rows[1][10] == "柜面业务办理"
    result = runner.invoke(app, [*options, "access-log", "--user", "auditor1"])
    assert result.exit_code == 0 and "audit" in result.output and "司马*" not in result.output
    result = runner.invoke(app, [*options, "access-log", "--from", "2024-13-01"])
    assert result.exit_code == 2 and "--from" in result.output
