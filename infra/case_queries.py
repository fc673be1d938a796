"""Reads of the cases read model (projections/cases.py): queues with due and overdue cases, the
archive view of a case (timeline, signatures, materials, resulting events), a person's cases
(业务档案), and the counter's figures per item and teller — the instant-completion rate, average
handling time in working days and overdue counts the reference documents report."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson

from domain.errors import ValidationFailed
from domain.working_days import WorkingCalendar
from infra.views_db import ViewsDb
from projections.cases import CASE_COLUMNS, EFFECT_COLUMNS, MATERIAL_COLUMNS

LIST_COLUMNS = tuple(c for c in CASE_COLUMNS if c != "steps")
SCOPES = ("to_sign", "mine", "open", "all")


def _row(columns: tuple[str, ...], row: tuple[Any, ...], today: date) -> dict[str, Any]:
    found = dict(zip(columns, row, strict=True))
    found["next_roles"] = [r for r in str(found.get("next_roles") or "").split(",") if r]
    is_open = found["status"] == "open"
    deadline = date.fromisoformat(found["deadline"])
    found["due_today"] = is_open and deadline == today
    found["overdue"] = (is_open and deadline < today) or bool(
        found.get("completed_on") and found["completed_on"] > found["deadline"])
    return found


def case_queue(views: ViewsDb, scope: str, username: str, roles: list[str], today: date,
               limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """`to_sign`: open cases whose next step one of `roles` signs, not opened or signed by
    `username`; `mine`: cases `username` opened; `open`: every open case; `all`: every case.
    Oldest deadline first."""
    if scope not in SCOPES:
        raise ValidationFailed("scope_unknown", f"scope must be one of {', '.join(SCOPES)}",
                               field="scope")
    sql = f"SELECT {', '.join(LIST_COLUMNS)} FROM cases c WHERE 1 = 1"
    params: list[Any] = []
    if scope == "to_sign":
        if not roles:
            return []
        sql += (" AND c.status = 'open' AND c.opened_by <> ? AND ("
                + " OR ".join("c.next_roles LIKE ?" for _ in roles) + ")"
                " AND NOT EXISTS (SELECT 1 FROM case_timeline t WHERE t.case_id = c.case_id"
                " AND t.event = 'Signed' AND t.actor = ?)")
        params += [username, *(f"%,{r},%" for r in roles), username]
    elif scope == "mine":
        sql += " AND c.opened_by = ?"
        params.append(username)
    elif scope == "open":
        sql += " AND c.status = 'open'"
    sql += " ORDER BY c.deadline, c.opened_position LIMIT ? OFFSET ?"
    params += [limit, offset]
    return [_row(LIST_COLUMNS, row, today) for row in views.query(sql, params)]


def person_cases(views: ViewsDb, person_id: str, today: date) -> list[dict[str, Any]]:
    rows = views.query(f"SELECT {', '.join(LIST_COLUMNS)} FROM cases WHERE person_id = ?"
                       " ORDER BY opened_position", (person_id,))
    return [_row(LIST_COLUMNS, row, today) for row in rows]


def case_view(views: ViewsDb, case_id: str, today: date) -> dict[str, Any] | None:
    """The archive view (业务档案) of one case, or None when the read model has not got it."""
    rows = views.query(f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE case_id = ?",
                       (case_id,))
    if not rows:
        return None
    case = _row(CASE_COLUMNS, rows[0], today)
    case["steps"] = orjson.loads(case["steps"])
    case["timeline"] = [
        {"position": int(p), "event": e, "actor": a, "detail": orjson.loads(d),
         "recorded_at": r}
        for p, e, a, d, r in views.query(
            "SELECT position, event, actor, detail, recorded_at FROM case_timeline"
            " WHERE case_id = ? ORDER BY position", (case_id,))]
    case["signatures"] = [
        {"step": t["detail"]["step"], "signer": t["actor"], "role": t["detail"]["role"],
         "comment": t["detail"]["comment"], "position": t["position"],
         "recorded_at": t["recorded_at"]}
        for t in case["timeline"] if t["event"] == "Signed"]
    case["materials"] = [dict(zip(MATERIAL_COLUMNS, row, strict=True)) for row in views.query(
        f"SELECT {', '.join(MATERIAL_COLUMNS)} FROM case_materials WHERE case_id = ?"
        " ORDER BY position", (case_id,))]
    case["effects"] = [dict(zip(EFFECT_COLUMNS, row, strict=True)) for row in views.query(
        f"SELECT {', '.join(EFFECT_COLUMNS)} FROM case_effects WHERE case_id = ?"
        " ORDER BY aggregate_id, version", (case_id,))]
    return case


def case_report(views: ViewsDb, calendar: WorkingCalendar, today: date,
                start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """Per item and per teller, of the cases opened from `start` to `end` (ISO dates)."""
    sql = ("SELECT code, name_zh, mode, status, opened_by, opened_on, deadline, completed_on,"
           " rating FROM cases WHERE opened_on >= ? AND opened_on <= ?")
    rows = views.query(sql, (start or "0000-01-01", end or "9999-12-31"))
    items: dict[str, dict[str, Any]] = {}
    tellers: dict[str, dict[str, Any]] = {}
    for code, name_zh, mode, status, teller, opened_on, deadline, completed_on, rating in rows:
        it = items.setdefault(code, {
            "code": code, "name_zh": name_zh, "mode": mode, "opened": 0, "completed": 0,
            "rejected": 0, "withdrawn": 0, "open": 0, "instant_completed": 0,
            "handling_working_days_total": 0, "overdue": 0, "ratings": 0, "rating_total": 0})
        te = tellers.setdefault(teller, {"teller": teller, "opened": 0, "completed": 0,
                                         "ratings": 0, "rating_total": 0, "overdue": 0})
        it["opened"] += 1
        te["opened"] += 1
        it[status] += 1
        late = (completed_on and completed_on > deadline) or (
            status == "open" and date.fromisoformat(deadline) < today)
        if late:
            it["overdue"] += 1
            te["overdue"] += 1
        if status == "completed":
            te["completed"] += 1
            it["handling_working_days_total"] += calendar.working_days_between(
                date.fromisoformat(opened_on), date.fromisoformat(completed_on))
            if completed_on == opened_on:
                it["instant_completed"] += 1
        if rating is not None:
            for agg in (it, te):
                agg["ratings"] += 1
                agg["rating_total"] += int(rating)
    for it in items.values():
        done = it["completed"]
        it["instant_completion_rate"] = round(it["instant_completed"] / done, 4) if done else None
        it["average_handling_working_days"] = (
            round(it.pop("handling_working_days_total") / done, 2) if done else None)
        it.pop("handling_working_days_total", None)
    for agg in (*items.values(), *tellers.values()):
        total = agg.pop("rating_total")
        agg["average_rating"] = round(total / agg["ratings"], 2) if agg["ratings"] else None
    opened = sum(it["opened"] for it in items.values())
    completed = sum(it["completed"] for it in items.values())
    same_day = sum(it["instant_completed"] for it in items.values())
    return {
        "from": start, "to": end, "as_of": today.isoformat(), "opened": opened,
        "completed": completed,
        "instant_completion_rate": round(same_day / completed, 4) if completed else None,
        "overdue": sum(it["overdue"] for it in items.values()),
        "items": sorted(items.values(), key=lambda x: x["code"]),
        "tellers": sorted(tellers.values(), key=lambda x: x["teller"]),
    }
