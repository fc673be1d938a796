"""Importing the tax bureau's collection detail: every line is posted, a duplicate, held in
suspense or rejected — in count and in fen — postings name their source lines, the books
balance, and the same file twice changes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from domain.assessment import assess_month
from domain.collection import COLUMNS
from domain.money import yuan_text_to_fen
from domain.periods import Period
from infra.bootstrap import Container
from infra.collection_import import import_collections
from infra.settings import Settings
from tests.helpers import SEED_WAGE_FEN, fresh_container, make_id_number, seed_region


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def write_file(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow([c.header_zh for c in COLUMNS])
        for row in rows:
            writer.writerow([row[c.key] for c in COLUMNS])
    return path


def month_rows(container: Container, number: str, code: str, period: str, serial: str,
               base_fen: int = SEED_WAGE_FEN, short_fen: int = 0) -> list[dict[str, str]]:
    """The rows the tax bureau would send for one person-month, one per insurance;
    `short_fen` less employer pension than assessed."""
    lines = assess_month(container.policy, Period(int(period[:4]), int(period[5:])), base_fen, 3)
    rows = []
    for insurance, base, employer, individual, _account in lines:
        if insurance == "110":
            employer -= short_fen
        rows.append({"serial_no": f"{serial}-{insurance}", "credit_code": code,
                     "id_number": number, "insurance": insurance, "period": period,
                     "base": yuan(base), "employer_amount": yuan(employer),
                     "individual_amount": yuan(individual), "collected_on": "2023-02-15",
                     "tax_batch": "SW202302"})
    return rows


def total_fen(rows: list[dict[str, str]]) -> int:
    return sum(yuan_text_to_fen(r["employer_amount"], "employer_amount")
               + yuan_text_to_fen(r["individual_amount"], "individual_amount") for r in rows)


def test_each_line_is_posted_held_or_rejected_and_a_second_import_changes_nothing(
        container: Container, tmp_path: Path) -> None:
    region = seed_region(container, persons=3)
    a, b, c = region.id_numbers
    code = region.employer_code
    exact = month_rows(container, a, code, "2023-01", "S1")
    short = month_rows(container, b, code, "2023-01", "S2", short_fen=10_000)
    unknown = month_rows(container, make_id_number(900), code, "2023-01", "S3")
    no_base = month_rows(container, c, code, "2022-06", "S4")
    bad = [{**exact[0], "serial_no": "S5-110", "id_number": a[:-1] + ("0" if a[-1] != "0"
                                                                      else "1")}]
    path = write_file(tmp_path / "sw202302.csv", exact + short + unknown + no_base + bad)

    summary = import_collections(container, path, rejects_path=tmp_path / "rejects.csv")

    assert summary.lines == 21
    assert summary.counts == {"posted": 10, "duplicate": 0, "suspense": 10, "rejected": 1}
    assert summary.amounts_fen["posted"] == total_fen(exact + short)
    assert summary.amounts_fen["suspense"] == total_fen(unknown + no_base)
    assert summary.suspense_reasons == {"person_not_registered": 5, "no_assessment": 5}
    rejects = (tmp_path / "rejects.csv").read_text(encoding="utf-8-sig")
    assert "id_number_check_digit" in rejects

    # the short month is posted as collected
    container.runner.catch_up()
    history = container.queries.history(region.person_ids[1])
    assert [h["employer_fen"] for h in history] == [
        sum(yuan_text_to_fen(r["employer_amount"], "employer_amount") for r in short)]
    funds = {f["account"]: f for f in container.queries.fund_balances()}
    assert funds["suspense"]["balance_fen"] == -summary.amounts_fen["suspense"]
    assert sum(f["debit_fen"] for f in funds.values()) == sum(
        f["credit_fen"] for f in funds.values())

    head = container.store.max_position()
    again = import_collections(container, path)
    assert again.already_imported
    assert again.counts == summary.counts
    assert container.store.max_position() == head


def test_postings_name_their_source_lines(container: Container, tmp_path: Path) -> None:
    from domain.contribution import ContributionMonth

    region = seed_region(container, persons=1)
    rows = month_rows(container, region.id_numbers[0], region.employer_code, "2023-03", "T9")
    import_collections(container, write_file(tmp_path / "f.csv", rows, encoding="gbk"))
    month: ContributionMonth = container.store.app.repository.get(
        ContributionMonth.create_id(region.person_ids[0], "2023-03"))
    assert sorted(month.serials) == sorted(r["serial_no"] for r in rows)


def test_the_same_month_from_new_serial_numbers_is_held_as_collected_twice(
        container: Container, tmp_path: Path) -> None:
    region = seed_region(container, persons=1)
    number, code = region.id_numbers[0], region.employer_code
    first = import_collections(container, write_file(
        tmp_path / "a.csv", month_rows(container, number, code, "2023-04", "A")))
    second = import_collections(container, write_file(
        tmp_path / "b.csv", month_rows(container, number, code, "2023-04", "B")))
    assert first.counts["posted"] == 5
    assert second.counts["suspense"] == 5
    assert second.suspense_reasons == {"collected_twice": 5}


@hypothesis_settings(max_examples=6, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.sampled_from(["known", "unknown", "short", "broken"]),
                               st.integers(1, 6)), min_size=1, max_size=8))
def test_posted_duplicate_suspense_and_rejected_add_up_to_every_line(
        settings: Settings, tmp_path_factory: object, plan: list[tuple[str, int]]) -> None:
    with fresh_container(settings) as container:
        region = seed_region(container, persons=2)
        rows: list[dict[str, str]] = []
        broken = 0
        for n, (kind, month) in enumerate(plan):
            period = f"2023-{month:02d}"
            if kind == "unknown":
                rows += month_rows(container, make_id_number(800 + n), region.employer_code,
                                   period, f"U{n}")
            elif kind == "broken":
                row = month_rows(container, region.id_numbers[0], region.employer_code, period,
                                 f"X{n}")[0]
                rows.append({**row, "period": "2023-13"})
                broken += 1
            else:
                rows += month_rows(container, region.id_numbers[n % 2], region.employer_code,
                                   period, f"K{n}", short_fen=700 if kind == "short" else 0)
        path = write_file(Path(str(tmp_path_factory.mktemp("f"))) / "f.csv", rows)  # type: ignore[attr-defined]
        summary = import_collections(container, path)
        assert sum(summary.counts.values()) == summary.lines == len(rows)
        assert summary.counts["rejected"] == broken
        valid = [r for r in rows if r["period"] != "2023-13"]
        assert sum(summary.amounts_fen.values()) == total_fen(valid)
        head = container.store.max_position()
        assert import_collections(container, path).already_imported
        assert container.store.max_position() == head


def test_with_the_hold_rule_a_month_collected_short_is_held_not_posted(
        container: Container, tmp_path: Path) -> None:
    from dataclasses import replace

    from domain.policy import MatchingRule

    container.policy = replace(container.policy, matching=MatchingRule("hold", "test"))
    region = seed_region(container, persons=2)
    a, b = region.id_numbers
    code = region.employer_code
    exact = month_rows(container, a, code, "2023-01", "H1")
    short = month_rows(container, b, code, "2023-01", "H2", short_fen=10_000)

    summary = import_collections(container, write_file(tmp_path / "h.csv", exact + short))

    assert summary.counts == {"posted": 5, "duplicate": 0, "suspense": 5, "rejected": 0}
    assert summary.amounts_fen["suspense"] == total_fen(short)
    assert summary.suspense_reasons == {"amount_differs": 5}
    container.runner.catch_up()
    assert container.queries.history(region.person_ids[1]) == []
    items = container.views.query(
        "SELECT reason FROM suspense_items WHERE reason_code = 'amount_differs'")
    assert items and "110: collected" in items[0][0] and "assessed" in items[0][0]
