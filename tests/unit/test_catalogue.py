"""The business-item catalogue: the shipped file loads; high-risk items of DOMAIN.md §12 are
level 1 and time-limited; steps match the level; a bad entry is refused naming it; a bundle takes
the strictest item's steps and every item's materials."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from domain.catalogue import Catalogue, case_terms
from domain.staff import ROLES
from infra.catalogue_loader import _document, default_catalogue

catalogue = default_catalogue()
HIGH_RISK = ("employer_registration", "over_age_enrolment", "backpay_assessment",
             "personal_account_change", "historical_data_entry", "transfer_out", "transfer_in",
             "transfer_in_posting",
             "benefit_adjustment", "retirement_approval")


def test_high_risk_items_are_level_1_with_three_signers() -> None:
    for code in HIGH_RISK:
        item = catalogue.item(code)
        assert item.risk_level == 1 and item.mode == "time_limited", code
        assert [s.roles for s in item.steps] == [("reviewer",), ("deputy_director",),
                                                 ("director",)]


def test_every_item_names_a_category_and_materials() -> None:
    assert len(catalogue.items) >= 20
    for item in catalogue.items.values():
        assert item.materials, item.code
        assert item.category.startswith("5.")


def test_a_bundle_takes_the_strictest_steps_and_all_materials() -> None:
    items, bundle = catalogue.resolve("new_employee")
    assert bundle is not None and [it.code for it in items] == list(bundle.items)
    level, mode, deadline, steps, materials = case_terms(items)
    assert (level, mode, deadline, steps) == (3, "instant", 0, ())
    assert {m.code for m in materials} == {"resident_id", "labour_contract", "payroll"}
    retirement, _ = catalogue.resolve("retirement")
    level, mode, deadline, steps, _m = case_terms(retirement)
    assert (level, mode, len(steps)) == (1, "time_limited", 3)


def _mutated(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(_document("business_items", None))
    change(doc)
    return doc


@pytest.mark.parametrize("change", [
    lambda d: d["item"][0].update(risk_level=4),
    lambda d: d["item"][0].update(mode="instant"),  # level 1 must be time-limited
    lambda d: d["item"][0].update(steps=d["item"][0]["steps"][:1]),  # level 1 needs three
    lambda d: d["item"][0].update(category="9.9"),
    lambda d: d["item"][0]["steps"][0].update(roles=["teller"]),  # a teller never signs
    lambda d: d["item"].append(dict(d["item"][0])),  # a code twice
    lambda d: d["bundle"][0].update(items=["person_registration", "nope"]),
])
def test_a_bad_catalogue_entry_is_refused_naming_it(change: Any) -> None:
    with pytest.raises(ValueError, match=r"business_items\.toml"):
        Catalogue.from_document(_mutated(change), set(ROLES))
