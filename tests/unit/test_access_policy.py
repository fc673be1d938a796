"""The access policy (查询事由, who sees personal data in clear), name masking, and group commit
of access records: what is accepted, what is refused and why."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.access_policy import AccessPolicy
from domain.identity import COMPOUND_SURNAMES, NAME_SEPARATORS, mask_name
from domain.staff import ROLES
from infra.access_log import load_access_policy
from infra.group_commit import BatchFailed, GroupCommit

# -- masking names ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"),
    ("张三丰", "张**"),
    ("欧阳娜娜", "欧阳**"),
    ("司马光", "司马*"),
    ("欧阳", "欧*"),  # two characters: 欧 is the surname, 阳 the given name
    ("阿依古丽·买买提", "阿***·***"),
    ("王", "*"),
    ("  李四 ", "李*"),
    ("", ""),
])
def test_a_name_keeps_its_surname_and_separators_only(name: str, masked: str) -> None:
    assert mask_name(name) == masked


cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@given(st.text(alphabet=st.one_of(cjk, st.sampled_from(NAME_SEPARATORS.strip())),
               min_size=2, max_size=12).filter(lambda s: s.strip() == s and len(s) > 1))
def test_a_masked_name_shows_nothing_but_the_surname(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    kept = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    assert masked[:kept] == name[:kept]
    assert all(m == "*" or (m == c and c in NAME_SEPARATORS)
               for m, c in zip(masked[kept:], name[kept:], strict=True))


# -- the access policy file ---------------------------------------------------------------------

def shipped_document() -> dict[str, Any]:
    from infra.policy_loader import read_data_file

    return read_data_file("policy_data", "access")


def test_the_shipped_policy_loads_with_its_reasons_and_clear_roles() -> None:
    policy = load_access_policy()
    assert policy.reasons["counter_service"].name_zh == "柜面业务办理"
    assert policy.reasons["complaint"].note_required
    assert not policy.reasons["audit"].note_required
    assert policy.sees_clear(["teller"]) and policy.sees_clear(["auditor", "director"])
    assert not policy.sees_clear(["auditor"]) and not policy.sees_clear(["reconciler"])
    assert not policy.sees_clear([])
    assert "statement_request (权益单打印)" in policy.describe_reasons()


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("masking"), "expected a [masking] table"),
    (lambda d: d["masking"].update(clear_roles=["teller", "cashier"]), "unknown role 'cashier'"),
    (lambda d: d["masking"].update(clear_roles="teller"), "`clear_roles` must be a list"),
    (lambda d: d.pop("reason"), "expected [[reason]] entries"),
    (lambda d: d["reason"][1].update(code="Case Review"), "reason[1]: `code` must be"),
    (lambda d: d["reason"][2].update(name_zh=" "), "reason[2]: `name_zh` must be"),
    (lambda d: d["reason"][0].update(note_required="yes"), "reason[0]: `note_required`"),
    (lambda d: d["reason"][3].update(code="counter_service"), "reason[3]: code counter_service "
                                                              "is given twice"),
])
def test_a_bad_policy_file_is_refused_naming_the_entry(change: Any, message: str) -> None:
    document = shipped_document()
    change(document)
    with pytest.raises(ValueError) as info:
        AccessPolicy.from_document(document, set(ROLES))
    assert message in str(info.value)
    assert str(info.value).startswith("access.toml")


# -- group commit -------------------------------------------------------------------------------

def test_callers_arriving_during_a_write_share_the_next_one() -> None:
    batches: list[list[int]] = []
    first_write_started = threading.Event()
    release_first_write = threading.Event()

    def write(items: list[int]) -> int:
        batches.append(list(items))
        if len(batches) == 1:
            first_write_started.set()
            assert release_first_write.wait(30)
        return len(batches)

    commits: GroupCommit[int] = GroupCommit(write)
    results: dict[int, int] = {}

    def submit(n: int) -> None:
        results[n] = commits.submit([n, -n])

    leader = threading.Thread(target=submit, args=(1,))
    leader.start()
    assert first_write_started.wait(30)
    followers = [threading.Thread(target=submit, args=(n,)) for n in range(2, 7)]
    for t in followers:
        t.start()
    while True:  # until every follower's items gather behind the write in progress
        with commits._cond:
            if len(commits._gathering.items) == 10:
                break
        threading.Event().wait(0.001)
    release_first_write.set()
    for t in [leader, *followers]:
        t.join(30)
    assert batches[0] == [1, -1]
    assert len(batches) == 2 and sorted(batches[1]) == sorted(
        x for n in range(2, 7) for x in (n, -n))
    assert results == {1: 1, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2}


def test_a_failed_write_fails_every_caller_of_its_batch_and_the_next_batch_is_written() -> None:
    calls: list[list[str]] = []
    first_write_started = threading.Event()
    release_first_write = threading.Event()

    def write(items: list[str]) -> int:
        calls.append(list(items))
        if len(calls) == 1:
            first_write_started.set()
            assert release_first_write.wait(30)
        if "bad" in items:
            raise RuntimeError("disk full")
        return len(calls)

    commits: GroupCommit[str] = GroupCommit(write)
    outcomes: dict[str, object] = {}

    def submit(item: str) -> None:
        try:
            outcomes[item] = commits.submit([item])
        except Exception as e:
            outcomes[item] = e

    first = threading.Thread(target=submit, args=("first",))
    first.start()
    assert first_write_started.wait(30)
    behind = [threading.Thread(target=submit, args=(item,)) for item in ("bad", "innocent")]
    for t in behind:
        t.start()
    while True:  # both gathered behind the first write
        with commits._cond:
            if len(commits._gathering.items) == 2:
                break
        threading.Event().wait(0.001)
    release_first_write.set()
    for t in [first, *behind]:
        t.join(30)
    assert outcomes["first"] == 1
    # The batch's leader raises the write's own error; the other caller learns it failed.
    failed = [outcomes["bad"], outcomes["innocent"]]
    assert sum(isinstance(e, BatchFailed) for e in failed) == 1
    assert sum(type(e) is RuntimeError and str(e) == "disk full" for e in failed) == 1
    assert commits.submit(["later"]) == 3
    assert calls[1:] in ([["bad", "innocent"], ["later"]], [["innocent", "bad"], ["later"]])


def test_many_threads_write_every_item_exactly_once() -> None:
    written: list[int] = []
    lock = threading.Lock()

    def write(items: list[int]) -> int:
        with lock:
            written.extend(items)
        return 0

    commits: GroupCommit[int] = GroupCommit(write, batch_items_max=8)
    threads = [threading.Thread(target=lambda k=k: [commits.submit([k * 100 + i, -(k * 100 + i)])
                                                    for i in range(50)]) for k in range(1, 21)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    expected = [s * (k * 100 + i) for k in range(1, 21) for i in range(50) for s in (1, -1)]
    assert sorted(written) == sorted(expected)


def test_masked_deep_masks_personal_data_at_any_depth() -> None:
    from api.access import masked_deep

    state = {"id_number": "440781199001011237", "name": "张三", "birth_date": "1990-01-01",
             "applicant": {"id_number": "440781199001011237", "name": "欧阳娜娜"},
             "items": [{"payload": {"assigned_id_number": "440781199001011237"}}],
             "period": "2024-01", "amount_fen": 100}
    found = masked_deep(state)
    assert found == {
        "id_number": "440781********1237", "name": "张*", "birth_date": None,
        "applicant": {"id_number": "440781********1237", "name": "欧阳**"},
        "items": [{"payload": {"assigned_id_number": "440781********1237"}}],
        "period": "2024-01", "amount_fen": 100}
    assert "199001011" not in str(found)
