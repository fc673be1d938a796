"""What a completed case does: the catalogue's `effect` names → the ledger command it runs, with
the payload the teller entered when opening the case. Each effect's fields are checked when the
case is opened (and the effect tried without saving), so that a case does not travel through
its sign-offs to fail at the end on a typo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.errors import ValidationFailed
from infra.bootstrap import Container
from infra.ledger_service import CommandResult

Run = Callable[[Container, dict[str, Any], str, str], CommandResult]  # (c, payload, actor, case)


@dataclass(frozen=True)
class Effect:
    required: dict[str, type]
    optional: dict[str, type]
    run: Run
    applicant: str  # the payload field naming who the case is for: id_number or credit_code


def _register_employer(c: Container, p: dict[str, Any], actor: str, case: str) -> CommandResult:
    return c.ledger.register_employer(p["credit_code"], p["name"], p["employer_type"],
                                      p["risk_class"], industry=p.get("industry", ""),
                                      registered_on=p.get("registered_on"))


def _assess_backpay(c: Container, p: dict[str, Any], actor: str, case: str) -> CommandResult:
    from infra.backpay_service import assess_backpay

    return assess_backpay(c, p["id_number"], p["employer_code"], p["from_period"],
                          p["to_period"], p["pay_by"], p["reason"], actor,
                          p.get("base_fen"), p.get("insurances"))


def _assign_suspense(c: Container, p: dict[str, Any], actor: str, case: str) -> CommandResult:
    from infra.suspense_service import assign_suspense

    return assign_suspense(c, p["serial_no"], p["id_number"], p["period"], p["reason"], actor,
                           p.get("employer_code"))


def _refund_suspense(c: Container, p: dict[str, Any], actor: str, case: str) -> CommandResult:
    from infra.suspense_service import refund_suspense

    return refund_suspense(c, p["serial_no"], p["reason"], p["reference"], actor)


def _award_pension(c: Container, p: dict[str, Any], actor: str, case: str) -> CommandResult:
    from infra.pension_service import award_pension

    return award_pension(c, p["id_number"], p["retirement_date"], p.get("deemed_months") or 0)


def _link_to_residents(c: Container, p: dict[str, Any], actor: str, case: str
                       ) -> CommandResult:
    from infra.pension_service import link_to_residents_scheme

    return link_to_residents_scheme(c, p["id_number"], p["linked_on"])


def _transfer_out(c: Container, p: dict[str, Any], actor: str, case: str) -> CommandResult:
    from infra.transfer_service import transfer_out

    return transfer_out(c, p["id_number"], p["transfer_no"], p["to_region_code"],
                        p["to_region_name"], p["letter_received_on"], p.get("remitted_on"))


def _accept_transfer_in(c: Container, p: dict[str, Any], actor: str, case: str
                        ) -> CommandResult:
    from infra.transfer_service import accept_transfer_in

    return accept_transfer_in(c, p["id_number"], p["from_region_code"], p["from_region_name"],
                              p["applied_on"], p.get("accepted_on"))


def _cancel_transfer_in(c: Container, p: dict[str, Any], actor: str, case: str
                        ) -> CommandResult:
    from infra.transfer_service import cancel_transfer_in

    return cancel_transfer_in(c, p["id_number"], p["transfer_no"], p["reason"],
                              p.get("cancelled_on"))


def _post_transfer_in(c: Container, p: dict[str, Any], actor: str, case: str) -> CommandResult:
    from infra.transfer_service import post_transfer_in

    return post_transfer_in(c, p["id_number"], p["transfer_no"], p["funds_received_on"],
                            p["months"], p["account_fen"], p["pooled_fen"],
                            p["remittance_reference"], p.get("posted_on"))


EFFECTS: dict[str, Effect] = {
    "register_employer": Effect(
        {"credit_code": str, "name": str, "employer_type": str, "risk_class": int},
        {"industry": str, "registered_on": str}, _register_employer, "credit_code"),
    "change_risk_class": Effect(
        {"credit_code": str, "risk_class": int, "effective_from": str}, {},
        lambda c, p, a, k: c.ledger.change_risk_class(p["credit_code"], p["risk_class"],
                                                      p["effective_from"]), "credit_code"),
    "register_person": Effect(
        {"id_number": str, "name": str}, {"registered_on": str},
        lambda c, p, a, k: c.ledger.register_person(p["id_number"], p["name"],
                                                    registered_on=p.get("registered_on")),
        "id_number"),
    "start_employment": Effect(
        {"id_number": str, "employer_code": str, "start_date": str}, {},
        lambda c, p, a, k: c.ledger.start_employment(p["id_number"], p["employer_code"],
                                                     p["start_date"]), "id_number"),
    "end_employment": Effect(
        {"id_number": str, "employer_code": str, "end_date": str}, {},
        lambda c, p, a, k: c.ledger.end_employment(p["id_number"], p["employer_code"],
                                                   p["end_date"]), "id_number"),
    "declare_base": Effect(
        {"id_number": str, "year": int, "declared_wage_fen": int}, {},
        lambda c, p, a, k: c.ledger.declare_base(p["id_number"], p["year"],
                                                 p["declared_wage_fen"]), "id_number"),
    "reverse_contribution": Effect(
        {"id_number": str, "period": str, "reason": str}, {},
        lambda c, p, a, k: c.ledger.reverse_contribution(p["id_number"], p["period"],
                                                         p["reason"], source=f"case:{k}"),
        "id_number"),
    "assess_backpay": Effect(
        {"id_number": str, "employer_code": str, "from_period": str, "to_period": str,
         "pay_by": str, "reason": str}, {"base_fen": int, "insurances": list},
        _assess_backpay, "id_number"),
    "assign_suspense": Effect(
        {"serial_no": str, "id_number": str, "period": str, "reason": str},
        {"employer_code": str}, _assign_suspense, "id_number"),
    "award_pension": Effect(
        {"id_number": str, "retirement_date": str}, {"deemed_months": int}, _award_pension,
        "id_number"),
    "link_to_residents_scheme": Effect(
        {"id_number": str, "linked_on": str}, {}, _link_to_residents, "id_number"),
    "transfer_pension_out": Effect(
        {"id_number": str, "transfer_no": str, "to_region_code": str, "to_region_name": str,
         "letter_received_on": str}, {"remitted_on": str}, _transfer_out, "id_number"),
    "accept_pension_transfer_in": Effect(
        {"id_number": str, "from_region_code": str, "from_region_name": str,
         "applied_on": str}, {"accepted_on": str}, _accept_transfer_in, "id_number"),
    "post_pension_transfer_in": Effect(
        {"id_number": str, "transfer_no": str, "funds_received_on": str, "months": list,
         "account_fen": int, "pooled_fen": int, "remittance_reference": str},
        {"posted_on": str}, _post_transfer_in, "id_number"),
    "cancel_pension_transfer_in": Effect(
        {"id_number": str, "transfer_no": str, "reason": str}, {"cancelled_on": str},
        _cancel_transfer_in, "id_number"),
    "change_person_name": Effect(
        {"id_number": str, "name": str}, {},
        lambda c, p, a, k: c.ledger.change_person_name(p["id_number"], p["name"]), "id_number"),
    "refund_suspense": Effect(
        {"serial_no": str, "reason": str, "reference": str}, {}, _refund_suspense, "serial_no"),
}


def check_payload(item_code: str, effect_name: str, payload: Any) -> dict[str, Any]:
    """The payload with the effect's fields, each of its type; refuses what is missing,
    mistyped or unknown, naming the item and field."""
    effect = EFFECTS[effect_name]
    if not isinstance(payload, dict):
        raise ValidationFailed("payload_malformed", f"the payload of {item_code} must be an "
                               "object of fields", field=f"payloads.{item_code}")
    for key, kind in effect.required.items():
        if key not in payload:
            raise ValidationFailed("payload_field_missing",
                                   f"{item_code} needs {key} ({kind.__name__})",
                                   field=f"payloads.{item_code}.{key}")
    fields = {**effect.required, **effect.optional}
    for key, value in payload.items():
        kind = fields.get(key)
        if kind is None:
            raise ValidationFailed("payload_field_unknown", f"{item_code} takes no field {key}; "
                                   f"its fields are {', '.join(fields)}",
                                   field=f"payloads.{item_code}.{key}")
        if value is not None and (not isinstance(value, kind) or (
                kind is int and isinstance(value, bool))):
            raise ValidationFailed("payload_field_type", f"{item_code}.{key} must be "
                                   f"{kind.__name__}", field=f"payloads.{item_code}.{key}")
    return dict(payload)
