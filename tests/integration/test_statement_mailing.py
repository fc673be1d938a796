"""The yearly mailing and the statement of a deceased person, on SQLite and PostgreSQL: no
statement for a year after the year of death, the year of death marked (manifest and PDF); the
batch read recorded once in the access log (operator, reason, year, position, persons read, the
manifest's sha256) and found among each person's entries; the basic pension's deemed months from
the pension award; and codes issued in format 1 still verifying."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from pathlib import Path

import pypdf
import pytest

from domain.errors import NotFound, ValidationFailed
from domain.statement import CONTRIBUTING, DECEASED, FORMAT_VERSION, RETIRED, build_statement
from domain.verification_code import parse_code
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.pension_service import award_pension
from infra.statement_batch import BATCH_RESOURCE, MANIFEST, write_statements
from infra.statement_queries import StatementQueries, issued
from tests.helpers import make_id_number, seed_region

YEAR = 2023
URL = "https://shebao.example.cn"


def queries(c: Container) -> StatementQueries:
    return StatementQueries(c.views, c.store, c.policy, c.settings.region_code)


def three_persons(c: Container) -> tuple[str, str, str]:
    """Three persons paid through 2023: the first dies in 2023, the second died in 2022 (its
    death recorded late), the third lives."""
    region = seed_region(c, persons=3, year=YEAR)
    in_year, before, alive = region.id_numbers
    BulkPoster(c.store, c.policy, "test").post(
        [PostingRequest(n, region.employer_code, f"{YEAR}-{m:02d}")
         for n in region.id_numbers for m in range(1, 13)])
    c.ledger.record_death(in_year, "2023-08-15", "死亡医学证明")
    c.ledger.record_death(before, "2022-11-30", "户籍注销")
    c.staff.add_user("mailer", ["teller"])
    return in_year, before, alive


def test_the_mailing_marks_the_year_of_death_and_leaves_out_later_years(
        container: Container, tmp_path: Path) -> None:
    c = container
    in_year, before, alive = three_persons(c)
    ids = {n: queries(c).person_id_of(n) for n in (in_year, before, alive)}
    batch = write_statements(c.settings, YEAR, tmp_path, workers=2, public_url=URL,
                             operator="mailer")
    assert (batch.persons, batch.not_mailed_deceased, batch.persons_read) == (2, 1, 3)
    with batch.manifest.open(encoding="utf-8-sig", newline="") as f:
        rows = {r["person_id"]: r for r in csv.DictReader(f)}
    assert set(rows) == {ids[in_year], ids[alive]}
    assert (rows[ids[in_year]]["status"], rows[ids[in_year]]["date_of_death"]) == (
        DECEASED, "2023-08-15")
    assert (rows[ids[alive]]["status"], rows[ids[alive]]["date_of_death"]) == (CONTRIBUTING, "")
    assert not (tmp_path / ids[before][:2] / f"{ids[before]}.pdf").exists()
    assert len(list(tmp_path.rglob("*.pdf"))) == 2
    pdf = (tmp_path / rows[ids[in_year]]["file"]).read_bytes()
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "参保状态：已故" in text and "死亡日期：2023-08-15" in text
    # the year of the earlier death: everyone is mailed, that person marked
    earlier = write_statements(c.settings, 2022, tmp_path / "2022", operator="mailer")
    assert (earlier.persons, earlier.not_mailed_deceased) == (3, 0)  # died 2022-11-30: marked
    with earlier.manifest.open(encoding="utf-8-sig", newline="") as f:
        statuses = {r["person_id"]: r["status"] for r in csv.DictReader(f)}
    assert statuses[ids[before]] == DECEASED and ids[in_year] in statuses


def test_the_batch_read_is_one_access_record_naming_the_manifest(
        container: Container, tmp_path: Path) -> None:
    c = container
    in_year, _before, alive = three_persons(c)
    head = c.runner.catch_up()
    batch = write_statements(c.settings, YEAR, tmp_path, public_url=URL, operator="mailer")
    # one event for the whole batch, right after the position the statements are as known at
    assert batch.position == head and batch.access_position == head + 1
    assert c.store.max_position() == head + 1
    assert hashlib.sha256((tmp_path / MANIFEST).read_bytes()).hexdigest() == (
        batch.manifest_sha256)
    c.runner.catch_up()
    newest = c.access_log.entries(limit=1)[0]
    assert {k: newest[k] for k in (
        "position", "username", "roles", "person_id", "id_number_masked", "name_masked",
        "resource", "target", "reason_code", "reason_name_zh", "persons_read", "as_known_at",
        "output_sha256")} == {
        "position": head + 1, "username": "mailer", "roles": ["teller"], "person_id": "",
        "id_number_masked": "", "name_masked": "", "resource": BATCH_RESOURCE,
        "target": f"statements/{YEAR}", "reason_code": "statement_mailing",
        "reason_name_zh": "权益记录单寄送", "persons_read": 3, "as_known_at": head,
        "output_sha256": batch.manifest_sha256}
    # the batch is among the entries of every person it read — also of one it did not mail —
    # and not of a person registered after it
    for number in (in_year, alive):
        assert [e["position"] for e in c.access_log.entries(id_number=number)] == [head + 1]
    later = make_id_number(40)
    c.ledger.register_person(later, "后来登记", registered_on="2024-01-02")
    c.runner.catch_up()
    assert c.access_log.entries(id_number=later) == []
    assert [e["position"] for e in c.access_log.entries(username="mailer")] == [head + 1]
    csv_path = tmp_path / "log.csv"
    assert c.access_log.write_csv(csv_path, username="mailer") == 1
    assert batch.manifest_sha256 in csv_path.read_text(encoding="utf-8-sig")


def test_a_mailing_is_refused_before_anything_is_read_or_written(
        container: Container, tmp_path: Path) -> None:
    c = container
    three_persons(c)
    head = c.runner.catch_up()  # (the risk monitor's alerts about the deaths included)
    with pytest.raises(NotFound) as unknown:
        write_statements(c.settings, YEAR, tmp_path / "a", operator="nobody")
    assert unknown.value.code == "user_not_found"
    with pytest.raises(ValidationFailed) as reason:
        write_statements(c.settings, YEAR, tmp_path / "b", operator="mailer",
                         reason_code="curiosity")
    assert (reason.value.code, reason.value.field) == ("access_reason_unknown", "reason")
    with pytest.raises(NotFound) as beyond:
        write_statements(c.settings, YEAR, tmp_path / "c", operator="mailer",
                         position=head + 5)
    assert beyond.value.code == "position_not_found"
    assert c.store.max_position() == head
    assert not any((tmp_path / name).exists() for name in "abc")


def test_a_deceased_pensioners_statement_with_the_deemed_months(container: Container) -> None:
    c = container
    region = seed_region(c, persons=1, year=YEAR, years=(2024,), first_seq=1)
    number = make_id_number(5, birth=date(1964, 3, 1))  # 60 on 2024-06-30
    c.ledger.register_person(number, "测试五", registered_on="2015-01-01")
    c.ledger.start_employment(number, region.employer_code, "2023-01-01")
    for year in (2023, 2024):
        c.ledger.declare_base(number, year, 1_000_000)
    BulkPoster(c.store, c.policy, "test").post(
        [PostingRequest(number, region.employer_code, f"{y}-{m:02d}")
         for y in (2023, 2024) for m in range(1, 13) if f"{y}-{m:02d}" <= "2024-05"])
    q = queries(c)
    person = q.person_id_of(number)
    before_award = q.issue(person, 2023, c.runner.catch_up()).statement
    assert before_award.pension_months is not None
    assert (before_award.pension_months.actual_months, before_award.pension_months.deemed_months,
            before_award.pension_months.total_months) == (12, None, None)

    c.ledger.end_employment(number, region.employer_code, "2024-06-30")
    award_pension(c, number, "2024-06-30", deemed_months=180)
    c.ledger.record_death(number, "2024-09-01", "死亡医学证明")
    position = c.runner.catch_up()
    year_2024 = q.issue(person, 2024, position)
    months = year_2024.statement.pension_months
    assert months is not None
    assert (months.actual_months, months.deemed_months, months.total_months) == (17, 180, 197)
    assert len(months.trace.positions) == 1  # the award
    registration = year_2024.statement.registration
    assert (registration.status, registration.died_on, registration.retired_on) == (
        DECEASED, "2024-09-01", "2024-06-30")
    # the year before: alive and contributing then; the death and the deemed months known now
    year_2023 = q.issue(person, 2023, position).statement
    assert (year_2023.registration.status, year_2023.registration.died_on) == (
        CONTRIBUTING, "2024-09-01")
    assert year_2023.pension_months is not None
    assert year_2023.pension_months.total_months == 12 + 180
    # as known before the death: retired, no date of death
    at_award = q.issue(person, 2024, position - 1).statement
    assert (at_award.registration.status, at_award.registration.died_on) == (RETIRED, None)
    for found in (year_2024, q.issue(person, 2024, position - 1)):
        verified = q.verify(found.verification_code, position)
        assert verified.valid and verified.issued is not None
        assert verified.issued.content_hash == found.content_hash


def test_codes_issued_in_format_1_still_verify(container: Container) -> None:
    c = container
    in_year, _before, _alive = three_persons(c)
    position = c.runner.catch_up()
    q = queries(c)
    person = q.person_id_of(in_year)
    inputs = q.inputs([person], YEAR, position, *q.as_of(position))[person]  # type: ignore[misc]
    old = issued(build_statement(inputs, c.policy, 1))
    new = q.issue(person, YEAR, position)
    assert parse_code(old.verification_code).format_version == 1
    assert parse_code(new.verification_code).format_version == FORMAT_VERSION  # what is issued now
    assert old.content_hash != new.content_hash
    for found in (old, new):
        verified = q.verify(found.verification_code, position)
        assert verified.valid and verified.issued is not None
        assert verified.issued.content_hash == found.content_hash
        assert verified.issued.statement.format_version == found.statement.format_version


def test_the_command_line_mailing_names_its_operator(container: Container,
                                                     tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    c = container
    three_persons(c)
    c.staff.add_user("citizen", ["insured"])
    s = c.settings
    options = ["--region", s.region_code, "--data-dir", str(s.data_dir)]
    if s.pg_dsn:
        options += ["--pg-dsn", s.pg_dsn]
    runner = CliRunner(env={"COLUMNS": "250"})
    command = [*options, "statements", "--year", str(YEAR), "--out", str(tmp_path / "out"),
               "--workers", "1", "--public-url", URL]
    missing = runner.invoke(app, command)
    assert missing.exit_code == 2 and "--as" in missing.output
    refused = runner.invoke(app, [*command, "--as", "citizen"])
    assert refused.exit_code == 1 and "role_forbidden" in refused.output
    assert not (tmp_path / "out").exists()
    done = runner.invoke(app, [*command, "--as", "mailer"])
    assert done.exit_code == 0, done.output
    assert "2 statements of 2023" in done.output
    assert "1 person(s) not mailed: died before 2023" in done.output
    assert "access log: 3 records read by mailer (statement_mailing)" in done.output
    logged = runner.invoke(app, [*options, "access-log", "--user", "mailer"])
    assert logged.exit_code == 0 and "(3 persons)" in logged.output
    assert "statements/2023" in logged.output
