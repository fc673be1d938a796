"""Benefit-eligibility certification (待遇资格认证, DOMAIN.md §8): record a pensioner's
certification (by data matching or self-service), read the rule (policy file
certification.toml), the certifications on record, and who is overdue.

A certification is a command like the ledger's (Idempotency-Key, `meta` with the actor); a
second one for the same person and day finds the first and records nothing. The payment run
(infra/pension_payments.py) turns the certifications into suspended months and back pay."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from domain.certification import (
    METHODS_ZH,
    SOURCES_ZH,
    Certification,
    CertificationRule,
    deadline_on,
    suspensions,
)
from domain.errors import Conflict, ValidationFailed
from domain.pension import BASIC_PENSION, Entitlement
from infra.bootstrap import Container
from infra.ledger_service import CommandResult, Decision, parse_day
from infra.policy_loader import read_data_file
from projections.certifications import CERTIFICATIONS
from projections.pension_payments import DEATHS, ENTITLEMENTS

OVERDUE_LIST_MAX = 1000


def load_certification_rule(directory: Path | None = None) -> CertificationRule:
    """The rule from `<directory>/certification.toml` if there is one, else the shipped
    file."""
    if directory is not None and not (directory / "certification.toml").exists():
        directory = None
    return CertificationRule.from_document(
        read_data_file("policy_data", "certification", directory))


@lru_cache(maxsize=1)
def certification_rule() -> CertificationRule:
    configured = os.environ.get("SHEBAO_POLICY_DIR")
    return load_certification_rule(Path(configured) if configured else None)


def check_method(method: str, source: str | None) -> tuple[str, str]:
    """A known method and one of its sources (self-service defaults to face recognition)."""
    if method not in METHODS_ZH:
        raise ValidationFailed("certification_method_unknown",
                               f"method {method!r} is not one of {', '.join(METHODS_ZH)}",
                               field="method")
    sources = SOURCES_ZH[method]
    if source is None and len(sources) == 1:
        source = next(iter(sources))
    if source not in sources:
        raise ValidationFailed("certification_source_unknown",
                               f"source {source!r} is not a source of {method}; use one of "
                               f"{', '.join(sources)}", field="source")
    return method, source


def certify(c: Container, id_number: str, method: str, source: str | None, certified_on: str,
            *, today: date | None = None, idempotency_key: str | None = None
            ) -> CommandResult:
    """Record that the person was certified on `certified_on` (not in the future, not before
    the retirement, not after a recorded death). The person must draw a basic pension."""
    method, source = check_method(method, source)
    day = date.fromisoformat(parse_day(certified_on, "certified_on"))
    today = today or date.today()
    if day > today:
        raise ValidationFailed("certified_on_in_future", f"certified_on {day} is after today "
                               f"({today}); record a certification once it is made",
                               field="certified_on")
    payload = {"id_number": id_number, "method": method, "source": source,
               "certified_on": day.isoformat()}

    def decide() -> Decision:
        person = c.ledger.person(id_number)
        person_id = str(person.id)
        entitlement = c.ledger._get(Entitlement.create_id(c.settings.region_code, person_id,
                                                          BASIC_PENSION))
        if entitlement is None:
            raise Conflict("pension_not_awarded", "this person draws no basic pension; only "
                           "pensioners are certified", field="id_number")
        if day.isoformat() < entitlement.retirement_date:
            raise ValidationFailed("certified_before_retirement", f"certified_on {day} is "
                                   f"before the retirement on {entitlement.retirement_date}",
                                   field="certified_on")
        died_on = getattr(person, "died_on", None)
        if died_on is not None and day.isoformat() > died_on:
            raise Conflict("person_deceased", f"the person died on {died_on}; a death ends "
                           "the pension, it is not certified", field="id_number")
        certification_id = Certification.create_id(person_id, day.isoformat())
        found = c.ledger._get(certification_id)
        result = {"person_id": person_id, "certification_id": str(certification_id),
                  "certified_on": day.isoformat()}
        if found is not None:  # certified that day already: nothing new
            return Decision([], {**result, "method": found.method, "source": found.source,
                                 "already_recorded": True})
        return Decision([Certification(person_id=person_id, certified_on=day.isoformat(),
                                       method=method, source=source)],
                        {**result, "method": method, "source": source,
                         "already_recorded": False})

    return c.ledger.execute("certify_pensioner", payload, decide, idempotency_key)


def certified_days(c: Container, person_ids: list[str] | None = None
                   ) -> dict[str, list[date]]:
    """Person → the days they were certified, in order (read model)."""
    sql = f"SELECT person_id, certified_on FROM {CERTIFICATIONS}"
    params: tuple[Any, ...] = ()
    if person_ids is not None:
        if not person_ids:
            return {}
        sql += f" WHERE person_id IN ({', '.join('?' * len(person_ids))})"
        params = tuple(person_ids)
    found: dict[str, list[date]] = {}
    for person_id, day in c.views.query(sql + " ORDER BY person_id, certified_on", params):
        found.setdefault(str(person_id), []).append(date.fromisoformat(str(day)))
    return found


@dataclass(frozen=True)
class OverdueItem:
    person_id: str
    retirement_date: str
    last_certified_on: str | None
    deadline: str  # the day the certification was due by
    suspended_from: str  # the first month not paid (the month after the deadline's)


def overdue(c: Container, as_of: date | None = None, limit: int = OVERDUE_LIST_MAX
            ) -> tuple[list[OverdueItem], int]:
    """Living pensioners whose certification deadline has passed on `as_of` (default today),
    by deadline, a page of them, and how many in all. Their payment is suspended from the
    month after the deadline's month."""
    as_of = as_of or date.today()
    rule = certification_rule()
    c.runner.catch_up()
    rows = c.views.query(
        f"SELECT e.person_id, e.retirement_date FROM {ENTITLEMENTS} e"
        f" WHERE e.kind = ? AND NOT EXISTS (SELECT 1 FROM {DEATHS} d WHERE d.person_id ="
        " e.person_id AND d.date_of_death <= ?)", (BASIC_PENSION, as_of.isoformat()))
    certified = certified_days(c)
    found: list[OverdueItem] = []
    for person_id, retirement_date in rows:
        retired_on = date.fromisoformat(str(retirement_date))
        days = certified.get(str(person_id), [])
        deadline = deadline_on(retired_on, days, as_of, rule.period_days)
        if deadline >= as_of:
            continue
        last = max((d for d in days if retired_on < d <= as_of), default=None)
        suspension = suspensions(retired_on, [d for d in days if d <= as_of],
                                 rule.period_days)[-1]
        found.append(OverdueItem(str(person_id), str(retirement_date),
                                 None if last is None else last.isoformat(),
                                 deadline.isoformat(), suspension.first_period))
    found.sort(key=lambda item: (item.deadline, item.person_id))
    return found[:limit], len(found)
