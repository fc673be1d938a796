"""A region configured with an encryption key (SHEBAO_CIPHER_KEY) stores ciphertext and still
reads back, projects and bulk-posts like any other."""

from __future__ import annotations

import base64
from dataclasses import replace

from domain.contribution import ContributionMonth
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
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
