"""Who may see a person's record, why, and how much of it (查询留痕与脱敏, issue 5): the reasons
(查询事由) a staff member gives for reading one person's record, and the roles that see personal
data in clear. A data file (`domain/policy_data/access.toml`), validated here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REASON_CODE_LENGTH_MAX = 32


@dataclass(frozen=True)
class AccessReason:
    code: str  # e.g. counter_service
    name_zh: str  # e.g. 柜面业务办理
    note_required: bool  # the read must name e.g. the complaint number in a note


@dataclass(frozen=True)
class AccessPolicy:
    reasons: dict[str, AccessReason]
    clear_roles: frozenset[str]  # roles that see ID numbers and names in clear

    @classmethod
    def from_document(cls, doc: dict[str, Any], roles: set[str],
                      file: str = "access.toml") -> AccessPolicy:
        """Build from the parsed data file; raises ValueError naming the entry and key."""
        masking = doc.get("masking")
        if not isinstance(masking, dict):
            raise ValueError(f"{file}: expected a [masking] table")
        clear = masking.get("clear_roles")
        if not isinstance(clear, list) or not all(isinstance(r, str) for r in clear):
            raise ValueError(f"{file} [masking]: `clear_roles` must be a list of role names")
        unknown = [r for r in clear if r not in roles]
        if unknown:
            raise ValueError(f"{file} [masking]: unknown role {unknown[0]!r}; roles are "
                             f"{', '.join(sorted(roles))}")
        rows = doc.get("reason")
        if not isinstance(rows, list) or not rows:
            raise ValueError(f"{file}: expected [[reason]] entries")
        reasons: dict[str, AccessReason] = {}
        for i, row in enumerate(rows):
            where = f"{file} reason[{i}]"
            code, name_zh = row.get("code"), row.get("name_zh")
            if (not isinstance(code, str) or not code.isascii() or not code.isidentifier()
                    or not code.islower() or len(code) > REASON_CODE_LENGTH_MAX):
                raise ValueError(f"{where}: `code` must be lower-case letters, digits and _, "
                                 f"at most {REASON_CODE_LENGTH_MAX} characters")
            if not isinstance(name_zh, str) or not name_zh.strip():
                raise ValueError(f"{where}: `name_zh` must be non-empty text")
            note_required = row.get("note_required", False)
            if not isinstance(note_required, bool):
                raise ValueError(f"{where}: `note_required` must be true or false")
            if code in reasons:
                raise ValueError(f"{where}: code {code} is given twice")
            reasons[code] = AccessReason(code, name_zh, note_required)
        return cls(reasons, frozenset(clear))

    def sees_clear(self, roles: Iterable[str]) -> bool:
        """Whether a staff member holding `roles` sees personal data in clear."""
        return not self.clear_roles.isdisjoint(roles)

    def describe_reasons(self) -> str:
        """`counter_service (柜面业务办理), …`: for messages that list the valid codes."""
        return ", ".join(f"{r.code} ({r.name_zh})" for r in self.reasons.values())
