"""Three-way reconciliation of a period per insurance: assessed (应收) = collected (实收) =
received into the special account (入专户) reconciles ok; a person not paying shows as
assessed − collected (arrears); a statement short of an insurance as collected − received."""

from __future__ import annotations

from pathlib import Path

from infra.bootstrap import Container
from infra.collection_import import import_collections
from infra.finance_statement_import import import_statement
from infra.three_way import three_way
from tests.helpers import make_id_number, seed_region
from tests.integration.test_collection_import import month_rows, total_fen, write_file, yuan
from tests.integration.test_finance_reconciliation import write_statement


def per_insurance(rows: list[dict[str, str]]) -> dict[str, int]:
    per: dict[str, int] = {}
    for r in rows:
        per[r["insurance"]] = per.get(r["insurance"], 0) + total_fen([r])
    return per


def test_assessed_collected_and_received_tie_per_insurance(container: Container,
                                                           tmp_path: Path) -> None:
    region = seed_region(container, persons=3)
    a, b, c = region.id_numbers
    code = region.employer_code
    paid = month_rows(container, a, code, "2023-01", "P1") + month_rows(
        container, b, code, "2023-01", "P2")
    stranger = month_rows(container, make_id_number(900), code, "2023-01", "H1")  # suspense
    import_collections(container, write_file(tmp_path / "sw.csv", paid + stranger))
    unpaid = per_insurance(month_rows(container, c, code, "2023-01", "X"))  # c did not pay
    collected = per_insurance(paid + stranger)
    statement = [[f"2023-02-{15 + i}", ins, "收入", yuan(fen), f"记-{i}", "税务划解"]
                 for i, (ins, fen) in enumerate(sorted(collected.items()))]
    statement[0][3] = yuan(collected["110"] - 100)  # the finance bureau booked 1.00 less
    import_statement(container, write_statement(tmp_path / "cz.csv", statement))

    report = three_way(container, "2023-01")
    assert report["received_month"] == "2023-02"  # the month 2023-01 falls due in
    rows = {r["insurance"]: r for r in report["rows"]}
    assert set(rows) == {"110", "210", "310", "410", "510"}
    for ins, r in rows.items():
        assessed = per_insurance(paid)[ins] + unpaid[ins]
        assert r["assessed_fen"] == assessed
        assert r["posted_fen"] == per_insurance(paid)[ins]
        assert r["suspense_fen"] == per_insurance(stranger)[ins]
        assert r["collected_fen"] == collected[ins]
        assert r["assessed_minus_collected_fen"] == unpaid[ins] - per_insurance(stranger)[ins]
        assert r["collected_minus_received_fen"] == (100 if ins == "110" else 0)
    assert report["status"] == "difference"

    # once c's month is collected and the stranger's money refunded, 210-510 tie exactly
    import_collections(container, write_file(
        tmp_path / "sw2.csv", month_rows(container, c, code, "2023-01", "P3")))
    from infra.suspense_service import refund_suspense
    for r in stranger:
        refund_suspense(container, r["serial_no"], "not insured here", "TF-1", "clerk")
    report = three_way(container, "2023-01", received_month="2023-02")
    rows = {r["insurance"]: r for r in report["rows"]}
    for r in rows.values():
        assert r["assessed_fen"] == r["collected_fen"]
        assert r["assessed_minus_collected_fen"] == 0
    assert rows["210"]["collected_minus_received_fen"] == unpaid["210"] - per_insurance(
        stranger)["210"]
