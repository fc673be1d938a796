"""The period a contribution belongs to (费款所属期, AAE002): a calendar month written YYYY-MM."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import ValidationFailed

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
PERIOD_YEAR_MIN = 1992  # pooling of enterprise pensions began in the 1990s; earlier is a typo
PERIOD_YEAR_MAX = 2100


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def index(self) -> int:
        """Months since year 0: differences of indexes count months."""
        return self.year * 12 + self.month - 1

    def next(self) -> Period:
        return Period(self.year + (self.month == 12), self.month % 12 + 1)


def parse_period(text: str, field: str = "period") -> Period:
    match = _PERIOD.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValidationFailed(
            "period_malformed", f"{field}: {text!r} is not a month written YYYY-MM", field=field
        )
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not PERIOD_YEAR_MIN <= year <= PERIOD_YEAR_MAX:
        raise ValidationFailed(
            "period_out_of_range",
            f"{field}: {text!r} is not a month between {PERIOD_YEAR_MIN}-01 and "
            f"{PERIOD_YEAR_MAX}-12",
            field=field,
        )
    return Period(year, month)
