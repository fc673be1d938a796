"""ContributionMonth: one person's contributions for one period (费款所属期), all insurances.

One aggregate per (person, period), so that a second posting of the same month addresses the same
aggregate: an identical repeat is a no-op, a different one is a conflict, never a double posting.
A wrong posting is reversed (红冲) by a new event; the month may then be posted again.
A posted month may be supplemented with insurances it does not have yet (money assigned out of
suspense by a clerk); a reversal then reverses the whole month as it stands.
The bulk path (infra/bulk.py) writes `Posted` events without building this object; a test
proves both produce the same stored event."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import ids
from domain.errors import Conflict
from domain.journal import assert_balanced, reversed_lines

POSTED = "posted"
REVERSED = "reversed"


class ContributionMonth(Aggregate):
    @staticmethod
    def create_id(person_id: str, period: str) -> UUID:
        return ids.contribution_month_id(UUID(person_id), period)

    # `serials`: the tax collection lines (税务流水号) the posting was made from, if any.
    # `assessed`: what was assessed (应收), when the collected amounts in `lines` differ from it.
    @event("Posted")
    def __init__(
        self,
        person_id: str,
        employer_code: str,
        period: str,
        lines: list[list[Any]],
        journal: list[list[Any]],
        source: str,
        serials: list[str] | None = None,
        assessed: list[list[Any]] | None = None,
    ) -> None:
        self.person_id = person_id
        self.period = period
        self._apply_posting(employer_code, lines, journal)
        self.serials = serials or []
        self.reversals = 0

    def _apply_posting(
        self, employer_code: str, lines: list[list[Any]], journal: list[list[Any]]
    ) -> None:
        self.employer_code = employer_code
        self.lines = lines
        self.journal = journal
        self.status = POSTED

    def same_posting(self, employer_code: str, lines: list[list[Any]]) -> bool:
        return self.status == POSTED and self.employer_code == employer_code and self.lines == lines

    def is_reversed_for(self, reason: str) -> bool:
        """True when the month's latest event is a reversal for this reason (a replay)."""
        return self.status == REVERSED and getattr(self, "last_reversal_reason", None) == reason

    def reverse(self, reason: str, source: str) -> None:
        if self.status != POSTED:
            raise Conflict(
                "month_not_posted",
                f"{self.period} is already reversed; post it again before reversing",
                field="period",
            )
        journal = reversed_lines(self.journal)
        assert_balanced(journal)
        self._reversed(
            person_id=self.person_id, period=self.period, employer_code=self.employer_code,
            lines=self.lines, reason=reason, journal=journal, source=source,
        )

    # The reversal repeats what it reverses (person, period, lines) so that every event can be
    # read on its own by projections and auditors.
    @event("Reversed")
    def _reversed(
        self, person_id: str, period: str, employer_code: str, lines: list[list[Any]],
        reason: str, journal: list[list[Any]], source: str,
    ) -> None:
        self.status = REVERSED
        self.reversals += 1
        self.last_reversal_reason = reason

    def repost(
        self, employer_code: str, lines: list[list[Any]], journal: list[list[Any]], source: str,
        serials: list[str] | None = None, assessed: list[list[Any]] | None = None,
    ) -> None:
        if self.status == POSTED:
            raise Conflict(
                "month_already_posted",
                f"{self.period} is already posted with other amounts; reverse it first (红冲)",
                field="period",
            )
        assert_balanced(journal)
        self._reposted(
            person_id=self.person_id, period=self.period, employer_code=employer_code,
            lines=lines, journal=journal, source=source, serials=serials, assessed=assessed,
        )

    @event("Reposted")
    def _reposted(
        self, person_id: str, period: str, employer_code: str, lines: list[list[Any]],
        journal: list[list[Any]], source: str, serials: list[str] | None = None,
        assessed: list[list[Any]] | None = None,
    ) -> None:
        self._apply_posting(employer_code, lines, journal)
        self.serials = serials or []

    def has_insurance(self, insurance: str) -> bool:
        return any(line[0] == insurance for line in self.lines)

    def supplement(
        self, employer_code: str, lines: list[list[Any]], journal: list[list[Any]], source: str,
        serials: list[str], assessed: list[list[Any]] | None = None,
    ) -> None:
        """Add lines for insurances the posted month does not have yet (e.g. money assigned out
        of suspense). An insurance already in the month is refused: reverse the month first."""
        if self.status != POSTED:
            raise Conflict(
                "month_reversed",
                f"{self.period} is reversed (红冲); post the month again before assigning more "
                "money to it, or refund the money",
                field="period",
            )
        if employer_code != self.employer_code:
            raise Conflict(
                "month_employer_differs",
                f"{self.period} is posted for employer {self.employer_code}, not {employer_code};"
                f" give employer_code {self.employer_code} if the money is that employer's, or "
                "refund it",
                field="employer_code",
            )
        for line in lines:
            if self.has_insurance(str(line[0])):
                raise Conflict(
                    "insurance_already_posted",
                    f"insurance {line[0]} of {self.period} is posted already; refund the money, "
                    "or reverse the month (红冲) and post it again",
                    field="period",
                )
        assert_balanced(journal)
        self._supplemented(
            person_id=self.person_id, period=self.period, employer_code=employer_code,
            lines=lines, journal=journal, source=source, serials=serials, assessed=assessed,
        )

    # Carries only what it adds (lines, journal, serials) and, like the reversal, who and what
    # month it is, so that projections read it on its own.
    @event("Supplemented")
    def _supplemented(
        self, person_id: str, period: str, employer_code: str, lines: list[list[Any]],
        journal: list[list[Any]], source: str, serials: list[str],
        assessed: list[list[Any]] | None = None,
    ) -> None:
        self.lines = [*self.lines, *lines]
        self.journal = [*self.journal, *journal]
        self.serials = [*self.serials, *serials]
