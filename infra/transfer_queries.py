"""Pension transfers (跨统筹区转移接续) as the API, the console and the command line show them:
the read model's rows (infra/transfer_service.transfers) with whether a transfer in is overdue
— still waiting for the old region's information table and funds after its due day, judged on
today at the bureau — and, for the bureau's queue, whom each transfer is for (ID number and
name as registered, the latest name; callers mask them for roles that do not see them in
clear)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import orjson

from domain.transfer import ACCEPTED, IN
from infra.bootstrap import Container
from infra.transfer_service import transfers

TRANSFER_LIST_MAX = 1000  # a region sees hundreds a year: one page is the whole queue
PERSON_TRANSFERS_MAX = 200  # transfers of one person: a handful in a working life


def is_overdue(row: dict[str, Any], today: date) -> bool:
    """A transfer in still waiting for the old region's funds after its due day
    (DOMAIN.md §5.2: 15 working days after our acceptance letter)."""
    return (row["direction"] == IN and row["status"] == ACCEPTED
            and row["due_on"] is not None and row["due_on"] < today.isoformat())


def transfer_list(c: Container, today: date, *, direction: str | None = None,
                  status: str | None = None, overdue: bool = False,
                  limit: int = TRANSFER_LIST_MAX) -> list[dict[str, Any]]:
    """The bureau's queue, newest first, each row with `overdue` and the person's
    `id_number` and `name`. `overdue`: only transfers in overdue on `today`."""
    rows = transfers(c, direction=direction, status=status,
                     overdue_on=today.isoformat() if overdue else None, limit=limit)
    identities = person_identities(c, {r["person_id"] for r in rows})
    return [{**r, "overdue": is_overdue(r, today),
             "id_number": identities.get(r["person_id"], ("", ""))[0],
             "name": identities.get(r["person_id"], ("", ""))[1]} for r in rows]


def person_transfer_list(c: Container, person_id: str, today: date) -> list[dict[str, Any]]:
    """One person's transfers, newest first, each with `overdue`."""
    return [{**r, "overdue": is_overdue(r, today)}
            for r in transfers(c, person_id=person_id, limit=PERSON_TRANSFERS_MAX)]


def person_identities(c: Container, person_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Person → (ID number, latest name), from the registration facts (person_facts)."""
    wanted = sorted(person_ids)
    if not wanted:
        return {}
    found: dict[str, tuple[str, str]] = {}
    marks = ",".join("?" * len(wanted))
    for person_id, data in c.views.query(
            "SELECT person_id, data FROM person_facts WHERE kind IN ('registered',"
            f" 'name_changed') AND person_id IN ({marks}) ORDER BY position", tuple(wanted)):
        fact = orjson.loads(data)
        number = fact.get("id_number") or found.get(str(person_id), ("", ""))[0]
        found[str(person_id)] = (number, fact.get("name", ""))
    return found
