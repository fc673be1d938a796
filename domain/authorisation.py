"""The authorisation register (业务权限授权登记, 陕社保发〔2016〕27号 art.10): which business
items a teller may accept. Changed only by recorded grants and revocations naming who decided
and why, so that an auditor can tell, for any case, that its teller was authorised when it was
opened."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import PermissionDenied, ValidationFailed
from domain.ids import fast_uuid5, region_namespace


class TellerAuthorisation(Aggregate):
    @staticmethod
    def create_id(region_code: str, username: str) -> UUID:
        return fast_uuid5(region_namespace(region_code), f"authorisation/{username}")

    @event("Created")
    def __init__(self, region_code: str, username: str) -> None:
        self.username = username
        self.item_codes: set[str] = set()

    def change(self, grant: list[str], revoke: list[str], decided_by: str, reason: str) -> bool:
        """Grant and revoke item codes; False when nothing would change."""
        if not reason.strip():
            raise ValidationFailed("reason_missing", "an authorisation change needs its reason "
                                   "(e.g. the approved permission request)", field="reason")
        if set(grant) & set(revoke):
            raise ValidationFailed("grant_and_revoke", "an item is both granted and revoked",
                                   field="grant")
        added = sorted(set(grant) - self.item_codes)
        removed = sorted(set(revoke) & self.item_codes)
        if added:
            self._granted(item_codes=added, decided_by=decided_by, reason=reason.strip())
        if removed:
            self._revoked(item_codes=removed, decided_by=decided_by, reason=reason.strip())
        return bool(added or removed)

    @event("Granted")
    def _granted(self, item_codes: list[str], decided_by: str, reason: str) -> None:
        self.item_codes |= set(item_codes)

    @event("Revoked")
    def _revoked(self, item_codes: list[str], decided_by: str, reason: str) -> None:
        self.item_codes -= set(item_codes)

    def require(self, item_codes: list[str]) -> None:
        missing = [code for code in item_codes if code not in self.item_codes]
        if missing:
            raise PermissionDenied(
                "item_not_authorised",
                f"{self.username} is not authorised to accept {', '.join(missing)}; an "
                "administrator grants it after the permission request is approved")
