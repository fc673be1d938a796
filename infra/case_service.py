"""Counter business (综合柜员制): open a case for a catalogue item or bundle, attach materials,
sign off, complete, reject, withdraw, rate — each a command through `LedgerService.execute`
(Idempotency-Key, optimistic retries), its events carrying the acting user and the case id.

Completion runs the items' effects inside `LedgerService.collecting()`: their aggregates and the
case's `Completed` (which lists the events they produced) are saved in ONE transaction — all of a
bundle or nothing. If an effect is refused at that point (the records changed since the case was
opened), the sign-off is refused with that reason and nothing is written; the case can be
rejected or withdrawn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO
from uuid import UUID

from domain import ids
from domain.authorisation import TellerAuthorisation
from domain.case import Case
from domain.catalogue import Catalogue, case_terms, require_available
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.identity import parse_id_number
from domain.working_days import WorkingCalendar
from infra.blob_store import BlobStore
from infra.bootstrap import Container
from infra.case_effects import EFFECTS, check_payload
from infra.catalogue_loader import default_calendar, default_catalogue
from infra.ledger_service import CommandResult, Decision, LedgerService, UnitOfWork
from projections.fund_movements import LEDGER_TIMEZONE

NAME_LENGTH_MAX = 200


def business_today() -> date:
    """Today at the bureau (China Standard Time), whatever the server's zone."""
    return datetime.now(LEDGER_TIMEZONE).date()


@dataclass(frozen=True)
class Actor:
    username: str
    roles: list[str]


class CaseService:
    def __init__(self, c: Container, catalogue: Catalogue | None = None,
                 calendar: WorkingCalendar | None = None) -> None:
        self.c = c
        self.ledger: LedgerService = c.ledger
        self.catalogue = catalogue or default_catalogue()
        self.calendar = calendar or default_calendar()
        self.blobs = BlobStore(c.settings.blob_dir)

    # -- lookups ----------------------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        try:
            key = UUID(case_id)
        except ValueError:
            raise ValidationFailed("case_id_malformed", f"{case_id!r} is not a case id",
                                   field="case_id") from None
        found = self.ledger._get(key)
        if not isinstance(found, Case):
            raise NotFound("case_not_found", f"no case {case_id} in region "
                           f"{self.c.settings.region_code}", field="case_id")
        return found

    def authorisation(self, username: str) -> TellerAuthorisation | None:
        found: TellerAuthorisation | None = self.ledger._get(
            TellerAuthorisation.create_id(self.c.settings.region_code, username))
        return found

    # -- the authorisation register --------------------------------------------------------------

    def change_authorisation(self, username: str, grant: list[str], revoke: list[str],
                             decided_by: str, reason: str,
                             idempotency_key: str | None = None) -> CommandResult:
        for code in [*grant, *revoke]:
            self.catalogue.item(code)
        payload = {"username": username, "grant": sorted(grant), "revoke": sorted(revoke),
                   "decided_by": decided_by, "reason": reason}

        def decide() -> Decision:
            register = self.authorisation(username)
            if register is None:
                register = TellerAuthorisation(region_code=self.c.settings.region_code,
                                               username=username)
            changed = register.change(grant, revoke, decided_by, reason)
            result = {"username": username, "item_codes": sorted(register.item_codes)}
            return Decision([register] if changed or register.version == 1 else [], result)

        with self.ledger.acting(decided_by):
            return self.ledger.execute("change_authorisation", payload, decide, idempotency_key)

    # -- opening ---------------------------------------------------------------------------------

    def open(self, code: str, payloads: dict[str, Any], actor: Actor,
             applicant_name: str = "", opened_on: date | None = None,
             idempotency_key: str | None = None) -> CommandResult:
        """Accept a case for an item or a bundle. `payloads`: item code → the fields of its
        effect (for a single item, its own code)."""
        items, bundle = self.catalogue.resolve(code)
        require_available(items)
        if not isinstance(payloads, dict):
            raise ValidationFailed("payloads_malformed", "payloads must map item codes to their "
                                   "fields", field="payloads")
        unknown = sorted(set(payloads) - {it.code for it in items})
        if unknown:
            raise ValidationFailed("payload_item_unknown", f"{code} has no item {unknown[0]}",
                                   field=f"payloads.{unknown[0]}")
        case_items = [{"code": it.code, "effect": it.effect,
                       "payload": check_payload(it.code, it.effect, payloads.get(it.code, {}))}
                      for it in items]
        day = opened_on or business_today()
        level, mode, deadline_days, steps, materials = case_terms(items)
        deadline = self.calendar.add_working_days(day, deadline_days)
        applicant = _applicant(self.c, case_items, applicant_name)
        payload = {"code": code, "items": case_items, "opened_by": actor.username,
                   "opened_on": day.isoformat(), "applicant": applicant}

        def decide() -> Decision:
            register = self.authorisation(actor.username)
            if register is None:
                raise PermissionDenied(
                    "item_not_authorised", f"{actor.username} has no authorisation to accept "
                    "business; an administrator grants items (shebao cases authorise)")
            register.require([it.code for it in items])
            # Try the effects now, saving nothing: a case that cannot take effect is refused at
            # the counter, not after its sign-offs.
            self._run_effects(case_items, actor.username, "dry-run")
            case = Case(
                region_code=self.c.settings.region_code, code=code,
                name_zh=bundle.name_zh if bundle else items[0].name_zh, items=case_items,
                risk_level=level, mode=mode, deadline_working_days=deadline_days,
                steps=[{"name": s.name, "name_zh": s.name_zh, "roles": list(s.roles)}
                       for s in steps],
                materials=[{"code": m.code, "name_zh": m.name_zh, "required": m.required}
                           for m in materials],
                applicant=applicant, opened_by=actor.username, opened_on=day.isoformat(),
                deadline=deadline.isoformat())
            return Decision([case], case_result(case))

        with self.ledger.acting(actor.username):
            return self.ledger.execute("open_case", payload, decide, idempotency_key)

    def _run_effects(self, case_items: list[dict[str, Any]], actor: str, case_id: str
                     ) -> tuple[UnitOfWork, list[dict[str, Any]]]:
        """Run the items' effects in one unit of work (their aggregates, not saved) and return
        it with each item's result."""
        with self.ledger.collecting() as unit, self.ledger.acting(actor, case_id):
            for item in case_items:
                EFFECTS[item["effect"]].run(self.c, item["payload"], actor, case_id)
        results = [{"item": item["code"], **result}
                   for item, result in zip(case_items, unit.results, strict=True)]
        return unit, results

    # -- materials -------------------------------------------------------------------------------

    def attach(self, case_id: str, material_code: str, source: BinaryIO, name: str,
               actor: Actor, idempotency_key: str | None = None) -> CommandResult:
        """Store the file content-addressed and record it on the case (same file twice: once)."""
        name = (name or "").strip()[:NAME_LENGTH_MAX] or "material"
        self.case(case_id)  # 404 before the upload is stored
        blob = self.blobs.put(source, name)
        payload = {"case_id": case_id, "material_code": material_code, "sha256": blob.sha256,
                   "by": actor.username}

        def decide() -> Decision:
            case = self.case(case_id)
            changed = case.attach(material_code, blob.sha256, name, blob.media_type,
                                  blob.size_bytes, actor.username)
            result = {**case_result(case), "sha256": blob.sha256, "size_bytes": blob.size_bytes,
                      "media_type": blob.media_type}
            return Decision([case] if changed else [], result)

        with self.ledger.acting(actor.username, case_id):
            return self.ledger.execute("attach_material", payload, decide, idempotency_key)

    # -- sign-offs and completion --------------------------------------------------------------

    def sign(self, case_id: str, actor: Actor, comment: str = "", signed_on: date | None = None,
             idempotency_key: str | None = None) -> CommandResult:
        payload = {"case_id": case_id, "by": actor.username, "comment": comment}

        def decide() -> Decision:
            case = self.case(case_id)
            last = case.sign(actor.username, actor.roles, comment)
            if not last:
                return Decision([case], case_result(case))
            return self._completion(case, actor.username, signed_on)

        with self.ledger.acting(actor.username, case_id):
            return self.ledger.execute("sign_case", payload, decide, idempotency_key)

    def complete(self, case_id: str, actor: Actor, completed_on: date | None = None,
                 idempotency_key: str | None = None) -> CommandResult:
        """Level 3: the teller who accepted the case completes it."""
        payload = {"case_id": case_id, "by": actor.username}

        def decide() -> Decision:
            case = self.case(case_id)
            case.check_teller_completes(actor.username)
            return self._completion(case, actor.username, completed_on)

        with self.ledger.acting(actor.username, case_id):
            return self.ledger.execute("complete_case", payload, decide, idempotency_key)

    def _completion(self, case: Case, actor: str, day: date | None) -> Decision:
        unit, results = self._run_effects(case.items, actor, str(case.id))
        case.complete(actor, (day or business_today()).isoformat(), unit.effect_refs(), results)
        return Decision([*unit.aggregates.values(), case], case_result(case))

    def reject(self, case_id: str, actor: Actor, reason: str,
               idempotency_key: str | None = None) -> CommandResult:
        payload = {"case_id": case_id, "by": actor.username, "reason": reason}

        def decide() -> Decision:
            case = self.case(case_id)
            case.reject(actor.username, actor.roles, reason)
            return Decision([case], case_result(case))

        with self.ledger.acting(actor.username, case_id):
            return self.ledger.execute("reject_case", payload, decide, idempotency_key)

    def withdraw(self, case_id: str, actor: Actor, reason: str,
                 idempotency_key: str | None = None) -> CommandResult:
        payload = {"case_id": case_id, "by": actor.username, "reason": reason}

        def decide() -> Decision:
            case = self.case(case_id)
            case.withdraw(actor.username, reason)
            return Decision([case], case_result(case))

        with self.ledger.acting(actor.username, case_id):
            return self.ledger.execute("withdraw_case", payload, decide, idempotency_key)

    def rate(self, case_id: str, score: int, comment: str, actor: Actor,
             idempotency_key: str | None = None) -> CommandResult:
        """The applicant's rating, entered at the counter's rating pad (评价器) or online."""
        payload = {"case_id": case_id, "score": score, "comment": comment}

        def decide() -> Decision:
            case = self.case(case_id)
            case.rate(score, comment, actor.username)
            return Decision([case], case_result(case))

        with self.ledger.acting(actor.username, case_id):
            return self.ledger.execute("rate_case", payload, decide, idempotency_key)


def case_result(case: Case) -> dict[str, Any]:
    step = case.next_step() if case.status == "open" else None
    return {"case_id": str(case.id), "code": case.code, "status": case.status,
            "risk_level": case.risk_level, "opened_by": case.opened_by,
            "opened_on": case.opened_on, "deadline": case.deadline,
            "next_step": step["name"] if step else None,
            "next_roles": list(step["roles"]) if step else [],
            "signatures": [dict(s) for s in case.signatures],
            "missing_materials": case.missing_materials(), "rating": case.rating}


def _applicant(c: Container, items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """Who the case is for: the first ID number (or credit code, or serial) among the items."""
    for item in items:
        field = EFFECTS[item["effect"]].applicant
        value = item["payload"].get(field)
        if not value:
            continue
        if field == "id_number":
            number = parse_id_number(value).number
            return {"id_number": number, "name": name[:NAME_LENGTH_MAX],
                    "person_id": str(ids.person_id(c.settings.region_code, number))}
        return {field: value, "name": name[:NAME_LENGTH_MAX]}
    return {"name": name[:NAME_LENGTH_MAX]}
