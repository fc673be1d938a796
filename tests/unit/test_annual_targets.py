"""Targets of the annual report as input data (domain/annual_targets.py, infra/
annual_targets_loader.py): a good file is read, the shipped DEMO file is valid, and every fault
is refused with the file, the entry and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domain.annual_targets import Target, parse_targets
from domain.errors import ValidationFailed
from infra.annual_targets_loader import TARGETS_FILE_VARIABLE, load_targets

INSURANCES = ("110", "210", "310", "410", "510")
GOOD = {"year": 2024, "indicator": "participants", "insurance": "110", "persons": 307_000,
        "source": "上级下达任务通知"}


def refused(document: dict[str, Any]) -> str:
    with pytest.raises(ValidationFailed) as info:
        parse_targets(document, "t.toml", INSURANCES)
    assert (info.value.code, info.value.field) == ("targets_invalid", "targets")
    return info.value.message


def test_a_good_document_gives_its_targets() -> None:
    targets = parse_targets({"target": [
        GOOD,
        {"year": 2024, "indicator": "income", "insurance": "110",
         "employer_type": "enterprise", "amount_fen": 63_947_000_000, "source": " s "}]},
        "t.toml", INSURANCES)
    assert targets == [
        Target(2024, "participants", "110", None, 307_000, "上级下达任务通知"),
        Target(2024, "income", "110", "enterprise", 63_947_000_000, "s")]
    assert parse_targets({}, "t.toml", INSURANCES) == []


@pytest.mark.parametrize(("change", "message"), [
    ({"insurance": "999"}, "t.toml target[0]: `insurance` '999' is not an insurance"),
    ({"indicator": "targets"}, "`indicator` 'targets' is unknown"),
    ({"employer_type": "private"}, "`employer_type` 'private' is unknown"),
    ({"persons": 0}, "`persons` must be more than 0"),
    ({"persons": "307000"}, "`persons` must be a whole number"),
    ({"persons": True}, "`persons` must be a whole number"),
    ({"persons": 1.5}, "`persons` must be a whole number"),
    ({"year": 1900}, "`year` 1900 is outside"),
    ({"source": ""}, "`source` must be non-empty text"),
    ({"amount_fen": 5}, "measured in `persons`, not `amount_fen`"),
    ({"amount_yuan": "5"}, "unknown key(s) `amount_yuan`"),
])
def test_a_bad_entry_is_refused_naming_file_entry_and_key(change: dict[str, Any],
                                                          message: str) -> None:
    assert message in refused({"target": [{**GOOD, **change}]})


def test_missing_keys_duplicates_and_shape_are_refused() -> None:
    entry = dict(GOOD)
    del entry["source"]
    assert refused({"target": [entry]}) == "t.toml target[0]: `source` is missing"
    second = refused({"target": [GOOD, {**GOOD, "persons": 1}]})
    assert second.startswith("t.toml target[1]: the same year, indicator")
    assert "[[target]]" in refused({"targets": []})
    assert "expected a table" in refused({"target": ["x"]})
    # the same indicator for another employer type or year is another target
    assert len(parse_targets({"target": [GOOD, {**GOOD, "employer_type": "enterprise"},
                                          {**GOOD, "year": 2025}]}, "t.toml", INSURANCES)) == 3


def test_the_shipped_demo_targets_are_valid_and_marked_demo(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TARGETS_FILE_VARIABLE, raising=False)
    targets, label = load_targets(None, INSURANCES)
    assert label.endswith("annual_targets.toml") and targets
    assert all(t.source.startswith("DEMO") for t in targets)


def test_the_file_comes_from_the_argument_else_the_setting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configured = tmp_path / "configured.toml"
    configured.write_text('[[target]]\nyear = 2024\nindicator = "contributors"\n'
                          'insurance = "210"\npersons = 5\nsource = "s"\n', encoding="utf-8")
    monkeypatch.setenv(TARGETS_FILE_VARIABLE, str(configured))
    targets, label = load_targets(None, INSURANCES)
    assert (label, [t.indicator for t in targets]) == (str(configured), ["contributors"])
    given = tmp_path / "given.toml"
    given.write_text("", encoding="utf-8")
    assert load_targets(given, INSURANCES) == ([], str(given))


def test_an_unreadable_file_is_refused_with_its_name(tmp_path: Path) -> None:
    for content, message in ((b"[[target]\n", "not valid TOML"),
                             (b"\xff\xfe\x00", "not UTF-8 text")):
        path = tmp_path / "bad.toml"
        path.write_bytes(content)
        with pytest.raises(ValidationFailed) as info:
            load_targets(path, INSURANCES)
        assert info.value.message.startswith(f"{path}: {message}")
    with pytest.raises(ValidationFailed) as missing:
        load_targets(tmp_path / "none.toml", INSURANCES)
    assert "no such file" in missing.value.message
