"""An employer's industry risk class sets its work-injury rate (DOMAIN.md §1.4); a change of
class takes effect from the date recorded with it."""

from __future__ import annotations

from domain.registration import Employer
from infra.bootstrap import Container
from tests.helpers import SEED_RISK_CLASS, seed_region

BASE_FEN = 1_000_000


def change_risk_class(container: Container, employer_code: str, risk_class: int,
                      effective_from: str) -> None:
    # No service command changes a risk class yet: use the aggregate's own command.
    employer: Employer = container.store.app.repository.get(
        Employer.create_id(container.settings.region_code, employer_code))
    employer.change_risk_class(risk_class, effective_from)
    container.store.app.save(employer)


def work_injury_fen(container: Container, number: str, employer_code: str, period: str) -> int:
    done = container.ledger.post_contribution(number, employer_code, period)
    [line] = [line for line in done.result["lines"] if line[0] == "410"]
    return int(line[2])


def test_the_work_injury_rate_follows_the_employers_risk_class(container: Container) -> None:
    region = seed_region(container, persons=1, year=2024, wage_fen=BASE_FEN)
    assert SEED_RISK_CLASS == 3
    fen = work_injury_fen(container, region.id_numbers[0], region.employer_code, "2024-01")
    assert fen == 7_000  # class 3: 0.7%
    change_risk_class(container, region.employer_code, 5, "2024-02-01")
    fen = work_injury_fen(container, region.id_numbers[0], region.employer_code, "2024-02")
    assert fen == 11_000  # class 5: 1.1%


def test_a_month_before_a_risk_class_change_keeps_the_old_class(container: Container) -> None:
    region = seed_region(container, persons=1, year=2024, wage_fen=BASE_FEN)
    change_risk_class(container, region.employer_code, 5, "2024-07-01")
    fen = work_injury_fen(container, region.id_numbers[0], region.employer_code, "2024-06")
    assert fen == 7_000  # June is still class 3
