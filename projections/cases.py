"""Cases (办件) for queues, archives and the counter's figures: one row per case with its state
and next step, its timeline (every event of the case, with who and when), its materials, and the
events its completion produced (from `Case.Completed`'s effect list)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson

from projections.base import EventRecord, Projection, ViewCursor

CASES = "cases"
TIMELINE = "case_timeline"
MATERIALS = "case_materials"
EFFECTS = "case_effects"
PREFIX = "Case."
CASE_COLUMNS = ("case_id", "code", "name_zh", "risk_level", "mode", "status", "opened_by",
                "opened_on", "deadline", "applicant_id_number", "applicant_credit_code",
                "person_id", "applicant_name", "steps", "signed_steps", "next_step",
                "next_roles", "completed_on", "closed_by", "rating", "opened_position",
                "opened_at", "last_position")
UPDATE_COLUMNS = ("status", "signed_steps", "next_step", "next_roles", "completed_on",
                  "closed_by", "rating", "last_position")
TIMELINE_COLUMNS = ("case_id", "position", "event", "actor", "detail", "recorded_at")
MATERIAL_COLUMNS = ("case_id", "material_code", "sha256", "name", "media_type", "size_bytes",
                    "attached_by", "position", "recorded_at")
EFFECT_COLUMNS = ("case_id", "aggregate_id", "version", "event", "completed_position")


def _next(steps: list[dict[str, Any]], signed: int) -> tuple[str | None, str]:
    if signed < len(steps):
        return steps[signed]["name"], "," + ",".join(steps[signed]["roles"]) + ","
    return None, ""


def _actor(record: EventRecord) -> str:
    e = record.state
    meta = e.get("meta") or {}
    for key in ("opened_by", "attached_by", "signer", "completed_by", "rejected_by",
                "withdrawn_by", "rated_via"):
        if key in e:
            return str(e[key])
    return str(meta.get("actor") or "")


class Cases(Projection):
    name = "cases"
    version = 1
    tables = (CASES, TIMELINE, MATERIALS, EFFECTS)
    event_types = ("Case.Opened", "Case.MaterialAttached", "Case.Signed", "Case.Completed",
                   "Case.Rejected", "Case.Withdrawn", "Case.Rated")

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {CASES} (case_id TEXT PRIMARY KEY, code TEXT NOT NULL,"
            " name_zh TEXT NOT NULL, risk_level INTEGER NOT NULL, mode TEXT NOT NULL,"
            " status TEXT NOT NULL, opened_by TEXT NOT NULL, opened_on TEXT NOT NULL,"
            " deadline TEXT NOT NULL, applicant_id_number TEXT, applicant_credit_code TEXT,"
            " person_id TEXT, applicant_name TEXT, steps TEXT NOT NULL,"
            " signed_steps INTEGER NOT NULL, next_step TEXT, next_roles TEXT NOT NULL,"
            " completed_on TEXT, closed_by TEXT, rating INTEGER,"
            f" opened_position {big} NOT NULL, opened_at TEXT NOT NULL,"
            f" last_position {big} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {TIMELINE} (case_id TEXT NOT NULL,"
            f" position {big} NOT NULL, event TEXT NOT NULL, actor TEXT NOT NULL,"
            " detail TEXT NOT NULL, recorded_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {MATERIALS} (case_id TEXT NOT NULL,"
            " material_code TEXT NOT NULL, sha256 TEXT NOT NULL, name TEXT NOT NULL,"
            f" media_type TEXT NOT NULL, size_bytes {big} NOT NULL, attached_by TEXT NOT NULL,"
            f" position {big} NOT NULL, recorded_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {EFFECTS} (case_id TEXT NOT NULL,"
            " aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, event TEXT NOT NULL,"
            f" completed_position {big} NOT NULL)",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {CASES}_status ON {CASES} (status, deadline)",
            f"CREATE INDEX IF NOT EXISTS {CASES}_person ON {CASES} (person_id, opened_position)",
            f"CREATE INDEX IF NOT EXISTS {TIMELINE}_case ON {TIMELINE} (case_id, position)",
            f"CREATE INDEX IF NOT EXISTS {MATERIALS}_case ON {MATERIALS} (case_id, position)",
            f"CREATE INDEX IF NOT EXISTS {EFFECTS}_case ON {EFFECTS} (case_id)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        opened: dict[str, dict[str, Any]] = {}  # cases opened in this page, completed in memory
        changed: dict[str, dict[str, Any]] = {}  # cases of earlier pages: their new state
        timeline: list[tuple[Any, ...]] = []
        materials: list[tuple[Any, ...]] = []
        effects: list[tuple[Any, ...]] = []
        for record in page:
            if not record.type_name.startswith(PREFIX) or record.type_name not in self.event_types:
                continue
            e = record.state
            case_id = str(UUID(hex=record.originator_id))
            kind = record.type_name[len(PREFIX):]
            detail = {k: v for k, v in e.items() if k not in ("timestamp", "originator_topic",
                                                                "meta", "region_code")}
            timeline.append((case_id, record.position, kind, _actor(record),
                             orjson.dumps(detail).decode(), record.recorded_at))
            if kind == "Opened":
                applicant = e["applicant"]
                step, roles = _next(e["steps"], 0)
                opened[case_id] = {
                    "case_id": case_id, "code": e["code"], "name_zh": e["name_zh"],
                    "risk_level": e["risk_level"], "mode": e["mode"], "status": "open",
                    "opened_by": e["opened_by"], "opened_on": e["opened_on"],
                    "deadline": e["deadline"], "applicant_id_number": applicant.get("id_number"),
                    "applicant_credit_code": applicant.get("credit_code"),
                    "person_id": applicant.get("person_id"),
                    "applicant_name": applicant.get("name"),
                    "steps": orjson.dumps(e["steps"]).decode(), "signed_steps": 0,
                    "next_step": step, "next_roles": roles, "completed_on": None,
                    "closed_by": None, "rating": None, "opened_position": record.position,
                    "opened_at": record.recorded_at, "last_position": record.position}
                continue
            row = opened.get(case_id) or changed.get(case_id) or self._load(cur, case_id)
            if case_id not in opened:
                changed[case_id] = row
            row["last_position"] = record.position
            if kind == "MaterialAttached":
                materials.append((case_id, e["material_code"], e["sha256"], e["name"],
                                  e["media_type"], e["size_bytes"], e["attached_by"],
                                  record.position, record.recorded_at))
            elif kind == "Signed":
                row["signed_steps"] += 1
                row["next_step"], row["next_roles"] = _next(orjson.loads(row["steps"]),
                                                            row["signed_steps"])
            elif kind == "Completed":
                row.update(status="completed", completed_on=e["completed_on"],
                           closed_by=e["completed_by"], next_step=None, next_roles="")
                effects.extend((case_id, ref[0], ref[1], ref[2], record.position)
                               for ref in e["effects"])
            elif kind == "Rejected":
                row.update(status="rejected", closed_by=e["rejected_by"], next_step=None,
                           next_roles="")
            elif kind == "Withdrawn":
                row.update(status="withdrawn", closed_by=e["withdrawn_by"], next_step=None,
                           next_roles="")
            elif kind == "Rated":
                row["rating"] = e["score"]
        if opened:
            cur.copy_rows(CASES, CASE_COLUMNS, [tuple(r[c] for c in CASE_COLUMNS)
                                                for r in opened.values()])
        if changed:
            assignments = ", ".join(f"{c} = ?" for c in UPDATE_COLUMNS)
            cur.executemany(f"UPDATE {CASES} SET {assignments} WHERE case_id = ?",
                            [(*(r[c] for c in UPDATE_COLUMNS), case_id)
                             for case_id, r in changed.items()])
        for table, columns, rows in ((TIMELINE, TIMELINE_COLUMNS, timeline),
                                     (MATERIALS, MATERIAL_COLUMNS, materials),
                                     (EFFECTS, EFFECT_COLUMNS, effects)):
            if rows:
                cur.copy_rows(table, columns, rows)

    @staticmethod
    def _load(cur: ViewCursor, case_id: str) -> dict[str, Any]:
        cur.execute(f"SELECT {', '.join(CASE_COLUMNS)} FROM {CASES} WHERE case_id = ?",
                    (case_id,))
        rows = cur.fetchall()
        if not rows:
            raise RuntimeError(f"case {case_id}: an event for a case never opened")
        return dict(zip(CASE_COLUMNS, rows[0], strict=True))
