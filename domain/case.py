"""Case (办件): one piece of counter business from acceptance to its end, as events.

    Opened → MaterialAttached* → (level 3) Completed by the teller who opened it
                               → (level 2) Signed by a reviewer → Completed
                               → (level 1) Signed by reviewer, deputy director, director → Completed
    … or Rejected (by someone who may act at the current step) / Withdrawn (by the teller) at
    any step, with a reason. A completed case may be Rated (好差评) once.

Segregation of duties, checked here before any event: the maker (the teller who opened it)
never signs; nobody signs twice; a role acts only at the steps the catalogue gives it; nothing
is signed or completed while a required material is missing. Completion is saved in one
transaction with the domain effects it causes (infra/case_service.py), and records them."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, PermissionDenied, ValidationFailed

OPEN = "open"
COMPLETED = "completed"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
SCORES = (1, 2, 3, 4, 5)  # 非常不满意 … 非常满意
REASON_LENGTH_MAX = 500


def _reason(text: str, field: str = "reason") -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed(f"{field}_missing", f"{field} must not be empty", field=field)
    if len(text) > REASON_LENGTH_MAX:
        raise ValidationFailed(f"{field}_too_long", f"{field} is over {REASON_LENGTH_MAX} "
                               "characters", field=field)
    return text.strip()


class Case(Aggregate):
    @event("Opened")
    def __init__(
        self,
        region_code: str,
        code: str,  # the item's or the bundle's code
        name_zh: str,
        items: list[dict[str, Any]],  # [{code, effect, payload}] in the order they take effect
        risk_level: int,
        mode: str,
        deadline_working_days: int,
        steps: list[dict[str, Any]],  # [{name, name_zh, roles}]
        materials: list[dict[str, Any]],  # [{code, name_zh, required}]
        applicant: dict[str, Any],  # {id_number?, credit_code?, person_id?, name?}
        opened_by: str,
        opened_on: str,  # business date (ISO)
        deadline: str,  # ISO date by which it must be completed
    ) -> None:
        self.code = code
        self.items = items
        self.risk_level = risk_level
        self.steps = steps
        self.materials = materials
        self.applicant = applicant
        self.opened_by = opened_by
        self.opened_on = opened_on
        self.deadline = deadline
        self.status = OPEN
        self.attached: dict[str, list[str]] = {}  # material code → sha256s
        self.media_types: dict[str, str] = {}  # sha256 → media type
        self.signatures: list[dict[str, Any]] = []
        self.rating: int | None = None

    # -- materials -----------------------------------------------------------------------------

    def missing_materials(self) -> list[str]:
        return [m["code"] for m in self.materials if m["required"]
                and not self.attached.get(m["code"])]

    def attach(self, material_code: str, sha256: str, name: str, media_type: str,
               size_bytes: int, attached_by: str) -> bool:
        """Record an uploaded file as one of the case's materials; False when that file is
        attached as that material already (a repeat)."""
        self._check_open()
        if material_code not in {m["code"] for m in self.materials}:
            raise ValidationFailed(
                "material_unknown",
                f"{material_code!r} is not a material of {self.code}; use one of "
                f"{', '.join(m['code'] for m in self.materials)}", field="material_code")
        if sha256 in self.attached.get(material_code, []):
            return False
        self._attached(material_code=material_code, sha256=sha256, name=name,
                       media_type=media_type, size_bytes=size_bytes, attached_by=attached_by)
        return True

    @event("MaterialAttached")
    def _attached(self, material_code: str, sha256: str, name: str, media_type: str,
                  size_bytes: int, attached_by: str) -> None:
        self.attached.setdefault(material_code, []).append(sha256)
        self.media_types[sha256] = media_type

    # -- sign-offs -------------------------------------------------------------------------------

    def next_step(self) -> dict[str, Any] | None:
        done = len(self.signatures)
        return self.steps[done] if done < len(self.steps) else None

    def _check_open(self) -> None:
        if self.status != OPEN:
            raise Conflict("case_closed", f"case {self.id} is {self.status}; nothing more can "
                           "be done to it", field="case_id")

    def _check_materials(self) -> None:
        missing = self.missing_materials()
        if missing:
            names = {m["code"]: m["name_zh"] for m in self.materials}
            raise Conflict("materials_missing",
                           "required materials are missing: " + ", ".join(
                               f"{code} ({names[code]})" for code in missing)
                           + "; attach them first", field="materials")

    def check_sign(self, username: str, roles: list[str]) -> tuple[dict[str, Any], str]:
        """The step this user would sign and the role they sign in; refuses otherwise."""
        self._check_open()
        step = self.next_step()
        if step is None:
            raise Conflict("no_signoff_needed", f"{self.code} is risk level 3: the teller who "
                           "opened it completes it", field="case_id")
        if username == self.opened_by:
            raise PermissionDenied("maker_cannot_sign", f"{username} opened this case: the maker"
                                   " never checks their own case (审核分离)")
        if any(s["signer"] == username for s in self.signatures):
            raise PermissionDenied("already_signed", f"{username} has signed this case already;"
                                   " each step needs another person")
        allowed = [r for r in step["roles"] if r in roles]
        if not allowed:
            raise PermissionDenied(
                "role_not_allowed_at_step",
                f"step {step['name']} ({step['name_zh']}) is signed by "
                f"{', '.join(step['roles'])}; {username} has {', '.join(roles) or 'no role'}")
        self._check_materials()
        return step, allowed[0]

    def sign(self, username: str, roles: list[str], comment: str) -> bool:
        """Sign the current step; True when it was the last one (the caller completes the case
        in the same transaction)."""
        step, role = self.check_sign(username, roles)
        self._signed(step_index=len(self.signatures), step=step["name"], signer=username,
                     role=role, comment=comment.strip()[:REASON_LENGTH_MAX])
        return self.next_step() is None

    @event("Signed")
    def _signed(self, step_index: int, step: str, signer: str, role: str, comment: str) -> None:
        self.signatures.append({"step_index": step_index, "step": step, "signer": signer,
                                "role": role})

    # -- the end of a case -----------------------------------------------------------------------

    def check_teller_completes(self, username: str) -> None:
        self._check_open()
        if self.steps:
            raise Conflict("signoff_required", f"{self.code} is risk level {self.risk_level}: it"
                           " completes when its last sign-off is given", field="case_id")
        if username != self.opened_by:
            raise PermissionDenied("only_maker_completes", f"{self.opened_by} accepted this "
                                   "case; only they complete it")
        self._check_materials()

    def complete(self, completed_by: str, completed_on: str, effects: list[list[Any]],
                 results: list[dict[str, Any]]) -> None:
        """Record the completion with references to the events its effects produced
        ([aggregate id, version, event type]); every signature must be there."""
        self._check_open()
        if self.next_step() is not None:
            raise Conflict("signoff_required", "sign-offs are missing", field="case_id")
        self._check_materials()
        self._completed(completed_by=completed_by, completed_on=completed_on, effects=effects,
                        results=results)

    @event("Completed")
    def _completed(self, completed_by: str, completed_on: str, effects: list[list[Any]],
                   results: list[dict[str, Any]]) -> None:
        self.status = COMPLETED
        self.completed_on = completed_on

    def check_reject(self, username: str, roles: list[str]) -> None:
        self._check_open()
        step = self.next_step()
        if step is None:
            raise PermissionDenied("reject_not_allowed", "a level-3 case is withdrawn by its "
                                   "teller, not rejected")
        if username == self.opened_by or not set(step["roles"]) & set(roles):
            raise PermissionDenied(
                "reject_not_allowed", f"only a {' or '.join(step['roles'])} other than the "
                "maker may reject at this step")

    def reject(self, username: str, roles: list[str], reason: str) -> None:
        self.check_reject(username, roles)
        step = self.next_step()
        assert step is not None
        self._rejected(step=step["name"], rejected_by=username, reason=_reason(reason))

    @event("Rejected")
    def _rejected(self, step: str, rejected_by: str, reason: str) -> None:
        self.status = REJECTED

    def withdraw(self, username: str, reason: str) -> None:
        self._check_open()
        if username != self.opened_by:
            raise PermissionDenied("only_maker_withdraws", f"only {self.opened_by}, who accepted"
                                   " the case, withdraws it (at the applicant's request)")
        self._withdrawn(withdrawn_by=username, reason=_reason(reason))

    @event("Withdrawn")
    def _withdrawn(self, withdrawn_by: str, reason: str) -> None:
        self.status = WITHDRAWN

    def rate(self, score: int, comment: str, rated_via: str) -> None:
        """The applicant's satisfaction (好差评), given once for a completed case."""
        if self.status != COMPLETED:
            raise Conflict("case_not_completed", "only a completed case is rated",
                           field="case_id")
        if self.rating is not None:
            raise Conflict("case_already_rated", f"this case was rated {self.rating} already",
                           field="case_id")
        if score not in SCORES:
            raise ValidationFailed("score_invalid", "score must be 1 (非常不满意) to 5 (非常满意)",
                                   field="score")
        self._rated(score=score, comment=comment.strip()[:REASON_LENGTH_MAX],
                    rated_via=rated_via)

    @event("Rated")
    def _rated(self, score: int, comment: str, rated_via: str) -> None:
        self.rating = score
