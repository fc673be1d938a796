"""Integrity of the event log: the hash chain kept beside the read models, signed digests of its
head, and verification of the stored events against both (domain/hash_chain.py).

- `ChainKeeper` appends (position, hash) for every new event to the table `hash_chain` in the
  read-model database; the projection runner calls it after each catch-up. It is never rebuilt
  from the events (that would bless whatever they hold now): it only grows.
- `publish_digest` signs (region, position, head hash, time) with the bureau's Ed25519 key and
  records it as a `Digest.Published` event; `export_digests` writes them as JSON lines for an
  auditor to keep outside the system.
- `verify` re-reads every stored event, recomputes the chain, and reports each position whose
  event was edited, deleted or inserted (against the recorded chain) and each digest the
  events contradict (a digest outlives a rewritten chain table)."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.digest import Digest, digest_message
from domain.errors import NotFound, ValidationFailed
from domain.hash_chain import ChainCheck, Finding, chain, genesis
from infra.store import Store
from infra.views_db import ViewsDb

CHAIN_TABLE = "hash_chain"
CHAIN_ROWS_PER_COPY = 20_000

Progress = Callable[[int], None]  # events done in this call


class ChainKeeper:
    def __init__(self, store: Store, views: ViewsDb) -> None:
        self.store = store
        self.views = views
        self.region = store.settings.region_code
        blob = "BYTEA" if views.dialect == "postgres" else "BLOB"
        with views.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (position BIGINT PRIMARY KEY,"
                        f" hash {blob} NOT NULL)")

    def head(self) -> tuple[int, bytes]:
        rows = self.views.query(f"SELECT position, hash FROM {CHAIN_TABLE}"
                                " ORDER BY position DESC LIMIT 1")
        if not rows:
            return 0, genesis(self.region)
        return int(rows[0][0]), bytes(rows[0][1])

    def catch_up(self, progress: Progress | None = None) -> int:
        """Chain every event stored after the chain's head; returns the new head position."""
        last, head = self.head()
        batch: list[tuple[int, bytes]] = []
        with self.store.chain_rows(last) as rows:
            for position, digest in chain(head, rows):
                batch.append((position, digest))
                last = position
                if len(batch) >= CHAIN_ROWS_PER_COPY:
                    self._write(batch)
                    if progress:
                        progress(len(batch))
                    batch = []
        if batch:
            self._write(batch)
            if progress:
                progress(len(batch))
        return last

    def _write(self, batch: list[tuple[int, bytes]]) -> None:
        with self.views.transaction() as cur:
            cur.copy_rows(CHAIN_TABLE, ("position", "hash"), batch)

    @contextmanager
    def recorded(self) -> Iterator[Iterator[tuple[int, bytes]]]:
        with self.views.stream(f"SELECT position, hash FROM {CHAIN_TABLE} ORDER BY position",
                               batch_rows=CHAIN_ROWS_PER_COPY) as rows:
            yield ((int(p), bytes(h)) for p, h in rows)


# -- keys and digests -------------------------------------------------------------------------


def generate_key(path: Path) -> str:
    """Write a new Ed25519 private key (PKCS#8 PEM, mode 0600) and return its public key
    (base64 of the raw 32 bytes), which auditors keep to check digests."""
    if path.exists():
        raise ValidationFailed("key_exists", f"{path} exists; a signing key is never overwritten"
                               " (move it away first if it is really to be replaced)",
                               field="out")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return public_key_text(key.public_key())


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_signing_key(path: Path | None) -> Ed25519PrivateKey:
    if path is None:
        raise ValidationFailed("signing_key_missing", "no signing key configured: set "
                               "SHEBAO_SIGNING_KEY to the bureau's Ed25519 key file "
                               "(shebao keys generate)", field="SHEBAO_SIGNING_KEY")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as e:
        raise ValidationFailed("signing_key_unreadable", f"cannot read the signing key "
                               f"{path}: {e}", field="SHEBAO_SIGNING_KEY") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationFailed("signing_key_type", f"{path} is not an Ed25519 key",
                               field="SHEBAO_SIGNING_KEY")
    return key


def public_key_of(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except ValueError as e:
        raise ValidationFailed("public_key_malformed", "a public key is the base64 of 32 raw "
                               "bytes", field="public_key") from e


def publish_digest(store: Store, keeper: ChainKeeper, key: Ed25519PrivateKey) -> dict[str, Any]:
    """Chain up to the log head, sign (region, position, head hash, time), and record it."""
    keeper.catch_up()
    position, head = keeper.head()
    published_at = datetime.now(UTC).isoformat()
    message = digest_message(store.settings.region_code, position, head.hex(), published_at)
    signature = base64.b64encode(key.sign(message)).decode()
    digest = Digest(region_code=store.settings.region_code, position=position,
                    head_hash=head.hex(), published_at=published_at,
                    public_key=public_key_text(key.public_key()), signature=signature)
    store.app.save(digest)
    return digest.as_dict()


def check_signature(entry: dict[str, Any], trusted_key: str | None = None) -> bool:
    key = public_key_of(trusted_key or entry["public_key"])
    message = digest_message(entry["region_code"], int(entry["position"]), entry["head_hash"],
                             entry["published_at"])
    try:
        key.verify(base64.b64decode(entry["signature"]), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def recorded_digests(views: ViewsDb) -> list[dict[str, Any]]:
    return [orjson.loads(row[0]) for row in views.query(
        "SELECT entry FROM digests ORDER BY position, published_at")]


def export_digests(views: ViewsDb, path: Path) -> int:
    entries = recorded_digests(views)
    with path.open("wb") as f:
        for entry in entries:
            f.write(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS) + b"\n")
    return len(entries)


def read_digest_file(path: Path) -> list[dict[str, Any]]:
    entries = []
    try:
        lines = path.read_bytes().splitlines()
    except OSError as e:
        raise NotFound("digest_file_missing", f"cannot read {path}: {e}", field="digest") from e
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
            int(entry["position"]), entry["head_hash"], entry["signature"]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise ValidationFailed("digest_file_malformed", f"{path} line {n} is not a digest "
                                   "exported by shebao digest --export", field="digest") from None
        entries.append(entry)
    return entries


# -- verification --------------------------------------------------------------------------------

@dataclass
class Verification:
    status: str = "ok"
    events: int = 0
    chain_head: int = 0
    log_head: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    more_findings: int = 0
    digests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first(self) -> Finding | None:
        return min(self.findings, key=lambda f: f.position) if self.findings else None

    def as_dict(self) -> dict[str, Any]:
        first = self.first
        return {
            "status": self.status, "events": self.events, "chain_head": self.chain_head,
            "log_head": self.log_head, "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events / self.seconds) if self.seconds else None,
            "first": None if first is None else {"position": first.position, "kind": first.kind,
                                                  "detail": first.detail},
            "findings": [{"position": f.position, "kind": f.kind, "detail": f.detail}
                         for f in sorted(self.findings, key=lambda f: f.position)],
            "more_findings": self.more_findings, "digests": self.digests,
        }


def verify(store: Store, keeper: ChainKeeper, digests: list[dict[str, Any]] | None = None,
           trusted_key: str | None = None, progress: Progress | None = None) -> Verification:
    """Recompute the chain from the stored events and compare it with the recorded chain and
    with `digests` (default: those recorded in the log; pass an exported file's entries to
    check against what was kept outside). Read-only."""
    started = time.perf_counter()
    result = Verification()
    chain_head, _ = keeper.head()
    result.chain_head = chain_head
    entries = digests if digests is not None else recorded_digests(keeper.views)
    wanted: dict[int, list[dict[str, Any]]] = {}
    for entry in entries:
        wanted.setdefault(int(entry["position"]), []).append(entry)
    true_at: dict[int, bytes] = {}
    check = ChainCheck(genesis(store.settings.region_code), genesis(store.settings.region_code))
    done = 0
    with store.chain_rows(0) as events, keeper.recorded() as recorded_rows:
        recorded = next(recorded_rows, None)
        for position, originator, version, topic, state in events:
            while recorded is not None and recorded[0] < position:
                check.missing(*recorded)
                recorded = next(recorded_rows, None)
            if recorded is not None and recorded[0] == position:
                check.event(position, originator, version, topic, state, recorded[1])
                recorded = next(recorded_rows, None)
            elif position <= chain_head:
                check.event(position, originator, version, topic, state, None)
            else:  # stored after the chain's last catch-up: not chained yet, nothing to compare
                check.unchained(position, originator, version, topic, state)
            if position in wanted:
                true_at[position] = check.true_head
            result.log_head = position
            done += 1
            if progress and done % 100_000 == 0:
                progress(100_000)
        while recorded is not None:  # chained events after the last stored one: deleted
            check.missing(*recorded)
            recorded = next(recorded_rows, None)
    if progress:
        progress(done % 100_000)
    result.events = check.checked
    result.findings = check.findings
    result.more_findings = check.more_findings
    for position, at_position in sorted(wanted.items()):
        for entry in at_position:
            signed = check_signature(entry, trusted_key)
            recomputed = true_at.get(position)
            if not signed:
                verdict = "signature_invalid"
            elif recomputed is None:
                verdict = "position_missing"  # no stored event at the digest's position
            elif recomputed.hex() != entry["head_hash"]:
                verdict = "contradicted"
            else:
                verdict = "ok"
            result.digests.append({"position": position, "published_at": entry["published_at"],
                                   "head_hash": entry["head_hash"], "verdict": verdict})
    if result.findings or any(d["verdict"] != "ok" for d in result.digests):
        result.status = "tampered"
    result.seconds = time.perf_counter() - started
    return result
