"""A hypothesis state machine over random counter sequences — opening, attaching, signing,
completing, rejecting, withdrawing by random users with random roles — proving that no case
completes without its required distinct signers in their roles, that the maker never signs,
and that a case's effect exists exactly when the case completed. On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import io
import itertools
from typing import Any

from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from domain.case import COMPLETED
from domain.errors import DomainError
from domain.registration import Employer
from infra.bootstrap import Container
from infra.case_service import Actor, CaseService
from infra.settings import Settings
from tests.helpers import fresh_container, make_credit_code

PNG = b"\x89PNG\r\n\x1a\n" + b"scan"
USERS = (
    Actor("t1", ["teller"]), Actor("t2", ["teller"]),
    Actor("r1", ["reviewer"]), Actor("r2", ["reviewer"]),
    Actor("d1", ["deputy_director"]), Actor("x1", ["director"]),
    Actor("rx", ["reviewer", "director"]),  # one person, two roles: may sign once only
    Actor("t3", ["teller", "reviewer", "deputy_director", "director"]),  # may never self-check
)
TELLERS = [u for u in USERS if "teller" in u.roles]
_codes = itertools.count(500)
CASES_PER_RUN_MAX = 3


class CounterMachine(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(self, container: Container) -> None:
        super().__init__()
        self.c = container
        self.service = CaseService(container)
        self.employers: dict[str, str] = {}  # case id → credit code it registers

    @initialize()
    def authorise(self) -> None:
        for teller in TELLERS:
            self.service.change_authorisation(
                teller.username, ["employer_registration", "person_registration"], [],
                "admin", "test")

    @precondition(lambda self: len(self.employers) < CASES_PER_RUN_MAX)
    @rule(target=cases, teller=st.sampled_from(TELLERS))
    def open_case(self, teller: Actor) -> str:
        code = make_credit_code(next(_codes))
        case_id = str(self.service.open("employer_registration", {"employer_registration": {
            "credit_code": code, "name": "随机公司", "employer_type": "enterprise",
            "risk_class": 1}}, teller).result["case_id"])
        self.employers[case_id] = code
        return case_id

    @rule(case_id=cases, user=st.sampled_from(USERS),
          material=st.sampled_from(["business_licence", "legal_rep_id"]))
    def attach(self, case_id: str, user: Actor, material: str) -> None:
        self._try(self.service.attach, case_id, material, io.BytesIO(PNG), "scan.png", user)

    @rule(case_id=cases, user=st.sampled_from(USERS))
    def sign(self, case_id: str, user: Actor) -> None:
        self._try(self.service.sign, case_id, user, "ok")

    @rule(case_id=cases, data=st.data())
    def sign_with_a_role_of_the_next_step(self, case_id: str, data: st.DataObject) -> None:
        """Steers towards completions: a user holding a role of the next step (who may still
        be the maker or have signed before)."""
        case = self.service.case(case_id)
        step = case.next_step() if case.status == "open" else None
        if step is None:
            return
        for material in case.missing_materials():
            self._try(self.service.attach, case_id, material, io.BytesIO(PNG), "scan.png",
                      TELLERS[0])
        holders = [u for u in USERS if set(u.roles) & set(step["roles"])]
        self._try(self.service.sign, case_id, data.draw(st.sampled_from(holders)), "ok")

    # The same rule twice: hypothesis picks rules evenly, so this doubles how often it runs.
    @rule(case_id=cases, data=st.data())
    def sign_with_a_role_of_the_next_step_again(self, case_id: str, data: st.DataObject
                                               ) -> None:
        self.sign_with_a_role_of_the_next_step(case_id, data)

    @rule(case_id=cases, user=st.sampled_from(USERS))
    def complete(self, case_id: str, user: Actor) -> None:
        self._try(self.service.complete, case_id, user)

    @rule(case_id=cases, user=st.sampled_from(USERS))
    def reject(self, case_id: str, user: Actor) -> None:
        self._try(self.service.reject, case_id, user, "材料不符")

    @rule(case_id=cases, user=st.sampled_from(TELLERS))
    def withdraw(self, case_id: str, user: Actor) -> None:
        self._try(self.service.withdraw, case_id, user, "申请人撤回")

    @staticmethod
    def _try(call: Any, *args: Any) -> None:
        # A refusal writes nothing; the invariants check what was written.
        with contextlib.suppress(DomainError):
            call(*args)

    @invariant()
    def completed_cases_have_their_distinct_signers(self) -> None:
        roles = {u.username: set(u.roles) for u in USERS}
        region = self.c.settings.region_code
        for case_id, code in self.employers.items():
            case = self.service.case(case_id)
            signers = [s["signer"] for s in case.signatures]
            assert len(signers) == len(set(signers)), signers
            assert case.opened_by not in signers
            for step, signature in zip(case.steps, case.signatures, strict=False):
                assert signature["role"] in step["roles"]
                assert signature["role"] in roles[signature["signer"]]
            effect_exists = bool(self.c.store.existing([Employer.create_id(region, code)]))
            if case.status == COMPLETED:
                assert len(signers) == len(case.steps) == 3
                assert not case.missing_materials()
            assert effect_exists == (case.status == COMPLETED)


def test_no_case_completes_without_its_required_distinct_signers(settings: Settings) -> None:
    with fresh_container(settings) as container:
        run_state_machine_as_test(
            lambda: CounterMachine(container),
            settings=hypothesis_settings(max_examples=25, stateful_step_count=30,
                                         deadline=None))
        container.runner.catch_up()
        statuses = dict(container.views.query(
            "SELECT status, COUNT(*) FROM cases GROUP BY status"))
        assert statuses.get("completed", 0) > 0, statuses  # the property was exercised
