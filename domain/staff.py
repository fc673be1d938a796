"""Staff users and their bearer tokens. Tokens are stored as sha256 only; a TokenIndex aggregate
keyed by the hash finds the user in one read (like the library's Slug/Index example)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import ids
from domain.errors import ValidationFailed

ROLES = {
    "teller": "综合柜员",
    "reviewer": "复核",
    "deputy_director": "主管副主任",
    "director": "主任",
    "auditor": "稽核",
    "reconciler": "对账",
    "insured": "参保人",
    "admin": "系统管理员",
}


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed(
            "role_unknown", f"role must be one of {', '.join(ROLES)}, got {role!r}", field="role"
        )
    return role


class StaffUser(Aggregate):
    @staticmethod
    def create_id(region_code: str, username: str) -> UUID:
        return ids.staff_user_id(region_code, username)

    @event("Added")
    def __init__(self, region_code: str, username: str, roles: list[str]) -> None:
        self.username = username
        self.roles = roles
        self.token_hashes: list[str] = []
        self.active = True

    @event("TokenIssued")
    def issue_token(self, token_sha256: str) -> None:
        self.token_hashes.append(token_sha256)

    @event("Deactivated")
    def deactivate(self, reason: str) -> None:
        self.active = False


class TokenIndex(Aggregate):
    @staticmethod
    def create_id(region_code: str, token_sha256: str) -> UUID:
        return ids.token_id(region_code, token_sha256)

    @event("Issued")
    def __init__(self, region_code: str, token_sha256: str, username: str) -> None:
        self.username = username
