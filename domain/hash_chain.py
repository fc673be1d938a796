"""The tamper-evident hash chain over the event log, in notification order (DESIGN.md
"Integrity"):

    h(n) = sha256(h(prev) ‖ canonical bytes of event n)

where prev is the event before n in notification order (ids may have gaps: PostgreSQL spends an
id on a rolled-back insert) and h(genesis) = sha256("shebao-ledger/<region>"). The canonical
bytes bind the notification id, the originator, its version, the topic and the stored state
exactly as stored (encrypted bytes if a cipher is on; the state holds the recorded timestamp):

    id (8 bytes) ‖ originator (16) ‖ version (8) ‖ len(topic) (4) ‖ topic ‖ len(state) (4) ‖ state

Fixed-width integers, big-endian; lengths make the encoding unambiguous."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

_HEADER = struct.Struct(">Q16sQI")
_LENGTH = struct.Struct(">I")
HASH_BYTES = 32


def genesis(region_code: str) -> bytes:
    return hashlib.sha256(f"shebao-ledger/{region_code}".encode()).digest()


def canonical(position: int, originator: bytes, version: int, topic: str, state: bytes) -> bytes:
    topic_bytes = topic.encode()
    return b"".join((_HEADER.pack(position, originator, version, len(topic_bytes)), topic_bytes,
                     _LENGTH.pack(len(state)), state))


def link(previous: bytes, position: int, originator: bytes, version: int, topic: str,
         state: bytes) -> bytes:
    return hashlib.sha256(previous + canonical(position, originator, version, topic,
                                               state)).digest()


def chain(previous: bytes, rows: Iterable[tuple[int, bytes, int, str, bytes]]
          ) -> Iterator[tuple[int, bytes]]:
    """(position, hash) for each (position, originator, version, topic, state) row in order."""
    sha256 = hashlib.sha256
    header, length = _HEADER.pack, _LENGTH.pack
    for position, originator, version, topic, state in rows:
        topic_bytes = topic.encode()
        previous = sha256(b"".join((previous, header(position, originator, version,
                                                     len(topic_bytes)),
                                    topic_bytes, length(len(state)), state))).digest()
        yield position, previous


EDITED = "edited"
INSERTED = "inserted"
DELETED = "deleted"


@dataclass
class Finding:
    position: int
    kind: str  # edited | inserted | deleted
    detail: str


@dataclass
class ChainCheck:
    """A streaming comparison of the events as stored with the recorded chain.

    `true_head` follows the events alone (what a digest is checked against); each event is also
    checked locally against the recorded hash of its predecessor, so that every tampered
    position is found, not only the first."""

    true_head: bytes
    recorded_previous: bytes
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    findings_max: int = 100
    more_findings: int = 0

    def _found(self, position: int, kind: str, detail: str) -> None:
        if len(self.findings) < self.findings_max:
            self.findings.append(Finding(position, kind, detail))
        else:
            self.more_findings += 1

    def event(self, position: int, originator: bytes, version: int, topic: str, state: bytes,
              recorded: bytes | None) -> None:
        """One stored event, with the chain's recorded hash for its position (None: the chain
        has no entry for it, though it lies within the chained range)."""
        self.checked += 1
        canon = canonical(position, originator, version, topic, state)
        self.true_head = hashlib.sha256(self.true_head + canon).digest()
        if recorded is None:
            self._found(position, INSERTED, "an event the chain never recorded: inserted")
            return
        if recorded != self.true_head and recorded != hashlib.sha256(
                self.recorded_previous + canon).digest():
            self._found(position, EDITED, "the stored event differs from what was chained: "
                        "edited (or its row swapped)")
        self.recorded_previous = recorded

    def unchained(self, position: int, originator: bytes, version: int, topic: str,
                  state: bytes) -> None:
        """An event stored after the chain's head (not chained yet): nothing to compare."""
        self.checked += 1
        self.true_head = hashlib.sha256(
            self.true_head + canonical(position, originator, version, topic, state)).digest()
        self.recorded_previous = self.true_head

    def missing(self, position: int, recorded: bytes) -> None:
        """The chain recorded an event at `position` that is no longer stored."""
        self._found(position, DELETED, "the chain recorded an event here that is gone: deleted")
        self.recorded_previous = recorded
