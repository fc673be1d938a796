"""Integrity over HTTP and the command line, on SQLite and PostgreSQL: an administrator
publishes a signed digest, an auditor exports the digests and verifies the log (ok), then an
edit made by SQL is reported at its position and the digest as contradicted; `shebao verify`
exits 3 on the tampered log."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from infra.integrity import generate_key
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem
from tests.e2e.test_import_api import container_of
from tests.helpers import seed_region


def test_publish_export_verify_and_find_an_edit(settings: Settings, tmp_path: Path) -> None:
    key = tmp_path / "bureau.key"
    public = generate_key(key)
    settings = replace(settings, signing_key=key, verify_key=public)
    with TestClient(create_app(settings, follow=False)) as client:
        admin = auth(client, "admin1", "admin")
        auditor = auth(client, "auditor1", "auditor")
        teller = auth(client, "teller1", "teller")
        container = container_of(client)
        seed_region(container, persons=2)

        problem(client.post("/v1/integrity/digests", headers=teller), 403, "role_forbidden")
        digest = ok(client.post("/v1/integrity/digests", headers=admin), 201)
        assert digest["public_key"] == public and len(digest["head_hash"]) == 64
        exported = client.get("/v1/integrity/digests.jsonl", headers=auditor)
        assert exported.status_code == 200 and exported.content.count(b"\n") == 1
        result = ok(client.post("/v1/integrity/verification", headers=auditor, json={}))
        assert result["status"] == "ok" and result["digests"][0]["verdict"] == "ok"

        store = container.store
        with store.raw_events_cursor() as cur:
            mark = "%s" if store.is_postgres else "?"
            cur.execute(f"UPDATE {store.events_table} SET state = state || {mark}"
                        f" WHERE {store.position_column} = {mark}", (b" ", 2))
        result = ok(client.post("/v1/integrity/verification", headers=auditor, json={}))
        assert result["status"] == "tampered"
        assert result["first"] == {"position": 2, "kind": "edited",
                                   "detail": result["findings"][0]["detail"]}
        assert result["digests"][0]["verdict"] == "contradicted"

    from typer.testing import CliRunner

    from api.cli import app

    file = tmp_path / "digests.jsonl"
    file.write_bytes(exported.content)
    options = ["--region", settings.region_code, "--data-dir", str(settings.data_dir)]
    if settings.pg_dsn:
        options += ["--pg-dsn", settings.pg_dsn]
    run = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, [*options, "verify", "--digest", str(file), "--public-key", public])
    assert run.exit_code == 3, run.output
    assert "position 2: edited" in run.output and "contradicted" in run.output
