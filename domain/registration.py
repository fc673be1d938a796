"""Registration aggregates: employers (参保单位) and insured persons (参保人)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import ids
from domain.errors import Conflict, ValidationFailed
from domain.policy import PolicyTables

EMPLOYER_TYPES = {"enterprise": "企业", "public_institution": "机关事业单位"}


class Employer(Aggregate):
    """Keyed by unified social credit code. Risk class 1–8 sets its work-injury rate."""

    @staticmethod
    def create_id(region_code: str, credit_code: str) -> UUID:
        return ids.employer_id(region_code, credit_code)

    @event("Registered")
    def __init__(
        self,
        region_code: str,
        credit_code: str,
        name: str,
        employer_type: str,
        risk_class: int,
        industry: str,
        registered_on: str,
    ) -> None:
        self.region_code = region_code
        self.credit_code = credit_code
        self.name = name
        self.employer_type = employer_type
        self.risk_class = risk_class
        self.industry = industry
        self.registered_on = registered_on
        self.work_injury_float = "1"
        # [effective_from (YYYY-MM-DD), risk class], oldest first; the first holds from the start
        self.risk_classes: list[list[Any]] = [["0001-01-01", risk_class]]

    def risk_class_on(self, period: str) -> int:
        """The risk class in force on the first day of a YYYY-MM period: a month before a
        change (back-pay, a re-posting) keeps the class it had."""
        day = f"{period}-01"
        found = self.risk_classes[0][1]
        for effective_from, risk_class in self.risk_classes:
            if effective_from <= day:
                found = risk_class
        return int(found)

    @staticmethod
    def check_registration(name: str, employer_type: str, risk_class: int) -> None:
        if not name.strip():
            raise ValidationFailed("name_missing", "name must not be empty", field="name")
        if employer_type not in EMPLOYER_TYPES:
            raise ValidationFailed(
                "employer_type_unknown",
                f"employer_type must be one of {', '.join(EMPLOYER_TYPES)}",
                field="employer_type",
            )
        if type(risk_class) is not int or not 1 <= risk_class <= 8:
            raise ValidationFailed(
                "risk_class_out_of_range",
                f"risk_class must be an industry risk class 1..8, got {risk_class!r}",
                field="risk_class",
            )

    def change_risk_class(self, risk_class: int, effective_from: str) -> None:
        self.check_registration(self.name, self.employer_type, risk_class)
        if risk_class == self.risk_class:
            raise Conflict("risk_class_unchanged", f"risk class is already {risk_class}")
        if effective_from <= self.risk_classes[-1][0]:
            raise ValidationFailed(
                "risk_class_change_out_of_order",
                f"effective_from {effective_from} must be after the last change "
                f"({self.risk_classes[-1][0]})",
                field="effective_from",
            )
        self._risk_class_changed(risk_class=risk_class, effective_from=effective_from)

    @event("RiskClassChanged")
    def _risk_class_changed(self, risk_class: int, effective_from: str) -> None:
        self.risk_class = risk_class
        self.risk_classes.append([effective_from, risk_class])


class Person(Aggregate):
    """Keyed by resident ID number. Holds employment spells and yearly declared bases."""

    @staticmethod
    def create_id(region_code: str, id_number: str) -> UUID:
        return ids.person_id(region_code, id_number)

    @event("Registered")
    def __init__(
        self,
        region_code: str,
        id_number: str,
        name: str,
        sex: str,
        birth_date: str,
        registered_on: str,
    ) -> None:
        self.region_code = region_code
        self.id_number = id_number
        self.name = name
        self.sex = sex
        self.birth_date = birth_date
        self.registered_on = registered_on
        self.employments: list[dict[str, Any]] = []
        self.bases: dict[str, dict[str, int]] = {}  # year (str, JSON-safe) → wage and base
        self.retired_on: str | None = None
        self.died_on: str | None = None
        # 转移接续 (domain/transfer.py): the transfer number of a transfer in under way.
        # Transfers are events of the person too, so that concurrent transfers of one person
        # conflict on its version instead of moving the money twice.
        self.transfer_in_transit: str | None = None

    @property
    def current_employer(self) -> str | None:
        for spell in reversed(self.employments):
            if spell["end_date"] is None:
                return str(spell["employer_code"])
        return None

    def start_employment(self, employer_code: str, start_date: str) -> None:
        open_spell = self.current_employer
        if open_spell is not None:
            raise Conflict(
                "employment_open",
                f"person is still employed by {open_spell}; end that employment first",
                field="employer_code",
            )
        if self.employments and start_date <= str(self.employments[-1]["end_date"]):
            raise ValidationFailed(
                "employment_overlap",
                f"start_date {start_date} is not after the end of the last employment "
                f"({self.employments[-1]['end_date']})",
                field="start_date",
            )
        self._employment_started(employer_code=employer_code, start_date=start_date)

    @event("EmploymentStarted")
    def _employment_started(self, employer_code: str, start_date: str) -> None:
        self.employments.append(
            {"employer_code": employer_code, "start_date": start_date, "end_date": None}
        )

    def end_employment(self, employer_code: str, end_date: str) -> None:
        if self.current_employer != employer_code:
            raise Conflict(
                "employment_not_open",
                f"person has no open employment with {employer_code}",
                field="employer_code",
            )
        if end_date < self.employments[-1]["start_date"]:
            raise ValidationFailed(
                "employment_end_before_start",
                f"end_date {end_date} is before the start {self.employments[-1]['start_date']}",
                field="end_date",
            )
        self._employment_ended(employer_code=employer_code, end_date=end_date)

    @event("EmploymentEnded")
    def _employment_ended(self, employer_code: str, end_date: str) -> None:
        self.employments[-1]["end_date"] = end_date

    def declare_base(self, policy: PolicyTables, year: int, declared_wage_fen: int) -> bool:
        """Record the year's base: the declared wage clamped to the published bounds.
        Returns False (and records nothing) when the same wage is already declared."""
        base_fen = policy.clamp_base(year, declared_wage_fen)
        current = self.bases.get(str(year))
        if current is not None and current["declared_wage_fen"] == declared_wage_fen:
            return False
        self._base_declared(year=year, declared_wage_fen=declared_wage_fen, base_fen=base_fen)
        return True

    @event("BaseDeclared")
    def _base_declared(self, year: int, declared_wage_fen: int, base_fen: int) -> None:
        self.bases[str(year)] = {"declared_wage_fen": declared_wage_fen, "base_fen": base_fen}

    def base_for(self, year: int) -> int | None:
        found = self.bases.get(str(year))
        return None if found is None else found["base_fen"]

    def retire(self, retired_on: str) -> None:
        """退休: the person draws a pension from the month after; contributions stop."""
        if self.retired_on is not None:
            raise Conflict("person_already_retired", f"retired on {self.retired_on} already",
                           field="retirement_date")
        if self.current_employer is not None:
            raise Conflict("person_still_employed",
                           f"still employed by {self.current_employer}: end the employment "
                           "(停保) first, or in the same bundle (退休一件事)",
                           field="retirement_date")
        self._retired(retired_on=retired_on)

    @event("Retired")
    def _retired(self, retired_on: str) -> None:
        self.retired_on = retired_on

    def change_name(self, name: str) -> None:
        """个人基本信息变更: the name as on the ID card (the ID number never changes)."""
        name = name.strip()
        if not name:
            raise ValidationFailed("name_missing", "name must not be empty", field="name")
        if name == self.name:
            raise Conflict("name_unchanged", f"the name is {name} already", field="name")
        self._name_changed(name=name, previous=self.name)

    @event("NameChanged")
    def _name_changed(self, name: str, previous: str) -> None:
        self.name = name

    def record_death(self, date_of_death: str, evidence: str, today: str) -> bool:
        """死亡登记: the date of death and what it is known from (死亡医学证明, 户籍注销, 火化
        信息 …). Postings and pension payments for months after it are then flagged by the
        risk monitor. False when this date is recorded already (a repeat)."""
        evidence = evidence.strip()
        if not evidence:
            raise ValidationFailed("evidence_missing", "say what the death is known from "
                                   "(death certificate, household deregistration …)",
                                   field="evidence")
        if date_of_death < self.birth_date:
            raise ValidationFailed("death_before_birth", f"date_of_death {date_of_death} is "
                                   f"before the birth date {self.birth_date}",
                                   field="date_of_death")
        if date_of_death > today:
            raise ValidationFailed("death_in_future", f"date_of_death {date_of_death} is after "
                                   f"today ({today})", field="date_of_death")
        if self.died_on is not None:
            if self.died_on == date_of_death:
                return False
            raise Conflict("death_already_recorded", f"a death on {self.died_on} is recorded "
                           "already; a death is recorded once", field="date_of_death")
        self._death_recorded(date_of_death=date_of_death, evidence=evidence)
        return True

    @event("DeathRecorded")
    def _death_recorded(self, date_of_death: str, evidence: str) -> None:
        self.died_on = date_of_death

    def _check_can_transfer(self) -> None:
        if self.died_on is not None:
            raise Conflict("person_deceased", f"died on {self.died_on}: the relationship is "
                           "closed (settle the account by the death benefit instead)",
                           field="id_number")
        if self.retired_on is not None:
            raise Conflict("person_already_retired", f"retired on {self.retired_on}: a "
                           "pensioner's relationship does not move", field="id_number")
        if self.transfer_in_transit is not None:
            raise Conflict("transfer_in_transit", f"transfer {self.transfer_in_transit} is "
                           "under way: post or close it first", field="id_number")

    def open_transfer_in(self, transfer_no: str, from_region_code: str) -> None:
        """转入受理: from the acceptance letter until the funds are posted."""
        self._check_can_transfer()
        self._transfer_in_opened(transfer_no=transfer_no, from_region_code=from_region_code)

    @event("TransferInOpened")
    def _transfer_in_opened(self, transfer_no: str, from_region_code: str) -> None:
        self.transfer_in_transit = transfer_no

    def close_transfer_in(self, transfer_no: str, outcome: str) -> None:
        if self.transfer_in_transit != transfer_no:
            raise Conflict("transfer_not_in_transit", f"transfer {transfer_no} is not the "
                           "person's transfer under way", field="transfer_no")
        self._transfer_in_closed(transfer_no=transfer_no, outcome=outcome)

    @event("TransferInClosed")
    def _transfer_in_closed(self, transfer_no: str, outcome: str) -> None:
        self.transfer_in_transit = None

    def transfer_out(self, transfer_no: str, to_region_code: str, remitted_on: str) -> None:
        """转出: the pension relationship and its money leave for another region. The person
        must have stopped contributing here (停保) first."""
        self._check_can_transfer()
        if self.current_employer is not None:
            raise Conflict("person_still_employed", f"still employed by "
                           f"{self.current_employer}: end the employment (停保) first; the "
                           "relationship moves when contributions here have stopped",
                           field="id_number")
        self._transferred_out(transfer_no=transfer_no, to_region_code=to_region_code,
                              remitted_on=remitted_on)

    @event("PensionTransferredOut")
    def _transferred_out(self, transfer_no: str, to_region_code: str, remitted_on: str) -> None:
        """Nothing of the person changes: the event takes the person's next version (see
        `transfer_in_transit`); what moved is in PensionTransferOut.Remitted."""
