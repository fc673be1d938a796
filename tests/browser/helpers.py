"""What the browser tests and their fixtures share: the served site and the screen sizes."""

from __future__ import annotations

from dataclasses import dataclass

DESKTOP = (1366, 768)
PHONE = (375, 812)
PAGE_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Site:
    base_url: str
    tokens: dict[str, str]  # username → bearer token
    id_numbers: tuple[str, ...]
    case_id: str  # a level-1 case the reviewer has signed: deputy, then director sign it
