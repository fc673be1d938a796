"""Tamper evidence on the real tables, SQLite and PostgreSQL: the hash chain kept by the runner
verifies an untouched log (gaps in notification ids included); an UPDATE of a state, a DELETE, an
INSERT into a gap and a swap of two rows, made by SQL behind the application's back, are each
found at the right position; a signed digest kept outside catches even a rewritten chain
table; and an encrypted log verifies like any other."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path
from typing import Any

from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.integrity import (
    CHAIN_TABLE,
    export_digests,
    generate_key,
    load_signing_key,
    publish_digest,
    read_digest_file,
    verify,
)
from infra.settings import Settings
from tests.helpers import seed_region


def post_months(container: Container, months: int = 6) -> None:
    region = seed_region(container, persons=2)
    BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(n, region.employer_code, f"2023-{m:02d}")
         for m in range(1, months + 1) for n in region.id_numbers])


def sql(container: Container, statement: str, params: tuple[Any, ...] = ()) -> None:
    store = container.store
    statement = statement.format(table=store.events_table, id=store.position_column)
    if store.is_postgres:
        statement = statement.replace("?", "%s")
    with store.raw_events_cursor() as cur:
        cur.execute(statement, params)


def positions(container: Container) -> list[int]:
    with container.store.chain_rows(0) as rows:
        return [row[0] for row in rows]


def digest_file(container: Container, tmp_path: Path) -> Path:
    key = tmp_path / "bureau.key"
    generate_key(key)
    publish_digest(container.store, container.runner.chain, load_signing_key(key))
    container.runner.catch_up()
    path = tmp_path / "digests.jsonl"
    assert export_digests(container.views, path) == 1
    return path


def kinds(container: Container) -> list[tuple[int, str]]:
    result = verify(container.store, container.runner.chain)
    return [(f.position, f.kind) for f in result.findings]


def test_an_untouched_log_verifies_and_each_tampering_is_found(container: Container,
                                                                tmp_path: Path) -> None:
    post_months(container)
    container.runner.catch_up()
    file = digest_file(container, tmp_path)
    result = verify(container.store, container.runner.chain, read_digest_file(file))
    assert result.status == "ok" and not result.findings
    assert result.events == len(positions(container)) == result.log_head
    assert [d["verdict"] for d in result.digests] == ["ok"]

    ids = positions(container)
    edited, deleted, a, b = ids[5], ids[9], ids[12], ids[15]
    sql(container, "UPDATE {table} SET state = state || ? WHERE {id} = ?", (b"x", edited))
    assert kinds(container) == [(edited, "edited")]
    sql(container, "DELETE FROM {table} WHERE {id} = ?", (deleted,))
    assert kinds(container) == [(edited, "edited"), (deleted, "deleted")]
    # swap two rows' contents
    with container.store.chain_rows(0) as rows:
        states = {row[0]: row[4] for row in rows if row[0] in (a, b)}
    sql(container, "UPDATE {table} SET state = ? WHERE {id} = ?", (states[b], a))
    sql(container, "UPDATE {table} SET state = ? WHERE {id} = ?", (states[a], b))
    assert kinds(container) == [(edited, "edited"), (deleted, "deleted"), (a, "edited"),
                                (b, "edited")]
    # the digest kept outside is contradicted; its signature still holds
    result = verify(container.store, container.runner.chain, read_digest_file(file))
    assert result.status == "tampered" and result.first is not None
    assert result.first.position == edited
    assert [d["verdict"] for d in result.digests] == ["contradicted"]


def test_an_insert_into_a_gap_is_found_and_gaps_alone_are_fine(container: Container) -> None:
    post_months(container, months=2)
    # a gap in the ids, as a rolled-back insert leaves one on PostgreSQL: gone before chaining
    gap = positions(container)[7]
    sql(container, "DELETE FROM {table} WHERE {id} = ?", (gap,))
    container.runner.catch_up()
    assert gap not in positions(container)
    assert verify(container.store, container.runner.chain).status == "ok"
    # the attacker inserts a copy of another event into the gap
    source = positions(container)[3]
    new_originator = ("gen_random_uuid()" if container.store.is_postgres
                      else "lower(hex(randomblob(16)))")
    sql(container, "INSERT INTO {table} ({id}, originator_id, originator_version, topic, state)"
                   f" SELECT ?, {new_originator}, originator_version, topic, state FROM {{table}}"
                   " WHERE {id} = ?", (gap, source))
    assert kinds(container) == [(gap, "inserted")]


def test_a_rewritten_chain_table_is_caught_by_the_digest_kept_outside(
        container: Container, tmp_path: Path) -> None:
    post_months(container)
    container.runner.catch_up()
    file = digest_file(container, tmp_path)
    target = positions(container)[4]
    sql(container, "UPDATE {table} SET state = state || ? WHERE {id} = ?", (b" ", target))
    with container.views.transaction() as cur:  # the attacker re-chains the edited log
        cur.execute(f"DELETE FROM {CHAIN_TABLE}")
    container.runner.chain.catch_up()
    result = verify(container.store, container.runner.chain, read_digest_file(file))
    assert result.findings == []  # the chain table agrees with the edited events now ...
    assert [d["verdict"] for d in result.digests] == ["contradicted"]  # ... the digest does not
    assert result.status == "tampered"
    forged = read_digest_file(file)
    forged[0]["head_hash"] = "00" * 32
    assert [d["verdict"] for d in verify(container.store, container.runner.chain,
                                         forged).digests] == ["signature_invalid"]


def test_an_encrypted_log_verifies(settings: Settings) -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    with Container.open(replace(settings, cipher_key=key)) as container:
        post_months(container, months=1)
        container.runner.catch_up()
        assert verify(container.store, container.runner.chain).status == "ok"
        with container.store.chain_rows(0) as rows:
            assert all(b"440781" not in state for *_rest, state in rows)  # ciphertext at rest
        sql(container, "UPDATE {table} SET state = state || ? WHERE {id} = ?", (b"!", 3))
        assert kinds(container) == [(3, "edited")]
