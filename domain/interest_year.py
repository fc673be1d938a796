"""InterestYear: the interest credited to one person's pension account for one year.

The event records every input (opening balance, credits per month, rate, the log position the
inputs were read at) so that an auditor can recompute it without the read models."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import ids
from domain.interest import YearInterest, delta_journal, interest_journal


class InterestYear(Aggregate):
    @staticmethod
    def create_id(person_id: str, year: int) -> UUID:
        return ids.interest_year_id(UUID(person_id), year)

    @event("Credited")
    def __init__(
        self,
        person_id: str,
        year: int,
        rate: str,
        opening_fen: int,
        credits_by_month_fen: list[int],
        prior_interest_fen: int,
        current_interest_fen: int,
        closing_fen: int,
        journal: list[list[Any]],
        inputs_position: int,
    ) -> None:
        self.person_id = person_id
        self.year = year
        self.rate = rate
        self.opening_fen = opening_fen
        self.credits_by_month_fen = credits_by_month_fen
        self.closing_fen = closing_fen
        self.interest_fen = prior_interest_fen + current_interest_fen

    def recompute(self, result: YearInterest, inputs_position: int, cause: str) -> None:
        """The year's inputs changed after it was credited (a back-payment into the year or
        before it): record the new computation and credit the difference, never edit."""
        delta_fen = result.interest_fen - self.interest_fen
        self._recomputed(
            person_id=self.person_id, year=self.year, rate=str(result.rate),
            opening_fen=result.opening_fen,
            credits_by_month_fen=list(result.credits_by_month_fen),
            prior_interest_fen=result.prior_interest_fen,
            current_interest_fen=result.current_interest_fen, closing_fen=result.closing_fen,
            interest_delta_fen=delta_fen,
            journal=delta_journal(self.person_id, delta_fen), inputs_position=inputs_position,
            cause=cause,
        )

    @event("Recomputed")
    def _recomputed(
        self, person_id: str, year: int, rate: str, opening_fen: int,
        credits_by_month_fen: list[int], prior_interest_fen: int, current_interest_fen: int,
        closing_fen: int, interest_delta_fen: int, journal: list[list[Any]],
        inputs_position: int, cause: str,
    ) -> None:
        self.rate = rate
        self.opening_fen = opening_fen
        self.credits_by_month_fen = credits_by_month_fen
        self.closing_fen = closing_fen
        self.interest_fen = prior_interest_fen + current_interest_fen

    @classmethod
    def credit(cls, person_id: str, result: YearInterest, inputs_position: int) -> InterestYear:
        return cls(
            person_id=person_id,
            year=result.year,
            rate=str(result.rate),
            opening_fen=result.opening_fen,
            credits_by_month_fen=list(result.credits_by_month_fen),
            prior_interest_fen=result.prior_interest_fen,
            current_interest_fen=result.current_interest_fen,
            closing_fen=result.closing_fen,
            journal=interest_journal(person_id, result.interest_fen),
            inputs_position=inputs_position,
        )
