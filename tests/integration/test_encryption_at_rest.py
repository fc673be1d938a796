"""A region configured with an encryption key (SHEBAO_CIPHER_KEY) stores ciphertext and still
reads back, projects and bulk-posts like any other."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

from domain.contribution import ContributionMonth
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.integrity import generate_key, load_signing_key, publish_digest, verify
from infra.settings import Settings
from tests.helpers import seed_region

KEY = base64.b64encode(bytes(range(32))).decode()


def test_an_encrypted_region_bulk_posts_and_reads_back(settings: Settings) -> None:
    with Container.open(replace(settings, cipher_key=KEY)) as container:
        region = seed_region(container, persons=1)
        result = BulkPoster(container.store, container.policy, "test").post(
            [PostingRequest(region.id_numbers[0], region.employer_code, "2023-01")])
        assert result.summary()["posted"] == 1
        month: ContributionMonth = container.store.app.repository.get(
            ContributionMonth.create_id(region.person_ids[0], "2023-01"))
        assert month.lines[0][2] == 160_000
        container.runner.catch_up()
        balance = container.queries.account_balance(region.person_ids[0])
        assert balance["balance_fen"] == 80_000
        [stored] = container.store.recorder.select_events(month.id)
        assert b"2023-01" not in stored.state  # ciphertext at rest


def test_no_id_number_or_name_in_clear_and_verify_still_works(settings: Settings,
                                                              tmp_path: Path) -> None:
    key_file = tmp_path / "bureau.key"
    generate_key(key_file)
    with Container.open(replace(settings, cipher_key=KEY)) as container:
        region = seed_region(container, persons=2)
        number = region.id_numbers[0]
        container.runner.catch_up()
        store = container.store
        with store.raw_events_cursor() as cur:
            cur.execute(f"SELECT state FROM {store.events_table}")
            states = [bytes(row[0] if isinstance(row, tuple) else row["state"])
                      for row in cur.fetchall()]
        assert len(states) == 7  # employer; registration, employment, base of each person
        # the number is in the events (decrypted), and in none of the stored bytes
        assert any(number in str(store.decode_state(state)) for state in states)
        for state in states:
            assert number.encode() not in state
            assert "测试1".encode() not in state
        publish_digest(store, container.runner.chain, load_signing_key(key_file))
        assert verify(store, container.runner.chain).status == "ok"
        # an edit of the ciphertext is still found at its position
        with store.raw_events_cursor() as cur:
            mark = "%s" if store.is_postgres else "?"
            cur.execute(f"UPDATE {store.events_table} SET state = state || {mark}"
                        f" WHERE {store.position_column} = {mark}", (b"x", 3))
        tampered = verify(store, container.runner.chain)
        assert tampered.status == "tampered" and tampered.findings[0].position == 3
