"""The annual report as known at an earlier log position, on SQLite and PostgreSQL: recomputed
after later events (a month posted late, a death, a back-payment's cancellation …) by replaying
the log into temporary read models, it is the report the read models gave when they stood
there — figures, position, time and hash; a position in between counts what was recorded by
then; positions that cannot be answered are refused."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from domain.errors import ValidationFailed
from domain.registration import Person
from infra.annual_report_queries import annual_report
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from tests.helpers import make_credit_code, make_id_number
from tests.integration.test_annual_report import YEAR, build_region, counts, participation


def test_a_report_at_a_position_does_not_change_when_later_events_are_added(
        container: Container) -> None:
    c = container
    expected = build_region(c)
    first = annual_report(c, YEAR)
    at = first["position"]
    assert annual_report(c, YEAR, position=at) == first  # the read models stand there

    BulkPoster(c.store, c.policy, "late").post([PostingRequest(
        expected["late"], make_credit_code(1), "2024-07")])
    c.ledger.record_death(make_id_number(1), "2024-12-01", "死亡医学证明")
    c.ledger.register_person(make_id_number(60), "后来登记", registered_on="2024-12-20")
    c.runner.catch_up()
    later = annual_report(c, YEAR)
    assert later["position"] > at and later["content_sha256"] != first["content_sha256"]
    assert later["retirement"]["deaths"] == first["retirement"]["deaths"] + 1

    seen: list[tuple[int, int]] = []
    again = annual_report(c, YEAR, position=at,
                          progress=lambda done, wanted: seen.append((done, wanted)))
    assert again == first  # every figure, the position, its time and the content hash
    assert seen and seen[-1] == (at, at)
    # and the live read models were not touched by the replay
    assert annual_report(c, YEAR) == later


def test_a_position_in_between_counts_what_was_recorded_by_then(container: Container) -> None:
    c = container
    build_region(c)
    deaths = [e.position for e in c.store.events_between(
        1, c.store.max_position(), [c.store.topic(Person.DeathRecorded)])]
    assert len(deaths) == 1
    before = annual_report(c, YEAR, position=deaths[0] - 1)
    at = annual_report(c, YEAR, position=deaths[0])
    assert (before["position"], at["position"]) == (deaths[0] - 1, deaths[0])
    assert (before["retirement"]["deaths"], at["retirement"]["deaths"]) == (0, 1)
    # until then the person who died was a participant (interrupted: no month in 2024)
    assert counts(participation(before, "110"))[0] == counts(participation(at, "110"))[0] + 1
    assert before["as_of"] <= at["as_of"]


def test_positions_a_report_cannot_be_as_known_at_are_refused(container: Container) -> None:
    c = container
    build_region(c)
    head = c.store.max_position()
    for position, code in ((head + 1, "position_not_reached"), (0, "position_out_of_range"),
                           (-3, "position_out_of_range")):
        with pytest.raises(ValidationFailed) as refused:
            annual_report(c, YEAR, position=position)
        assert (refused.value.code, refused.value.field) == (code, "position")
    with pytest.raises(ValidationFailed) as too_long:
        annual_report(c, YEAR, position=head - 1, replay_position_max=head - 2)
    assert too_long.value.code == "report_replay_too_long"
    assert "--position" in too_long.value.message
    # no replay needed at the read models' own position, whatever the limit
    assert annual_report(c, YEAR, position=head, replay_position_max=1)["position"] == head


def test_the_command_line_reports_as_known_at_a_position(container: Container,
                                                         tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    c = container
    expected = build_region(c)
    first = annual_report(c, YEAR)
    BulkPoster(c.store, c.policy, "late").post([PostingRequest(
        expected["late"], make_credit_code(1), "2024-07")])
    s = c.settings
    options = ["--region", s.region_code, "--data-dir", str(s.data_dir)]
    if s.pg_dsn:
        options += ["--pg-dsn", s.pg_dsn]
    path = tmp_path / "report.json"
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, [
        *options, "report", "annual", str(YEAR), "--position", str(first["position"]),
        "--json", str(path)])
    assert result.exit_code == 0, result.output
    assert f"as known at position {first['position']}" in result.output
    assert orjson.loads(path.read_bytes()) == first
