"""The business-item catalogue (经办事项目录) of the one-window counter (综合柜员制, reference 003,
DOMAIN.md §12–13): per item its category (GB/T 35617 top level), risk level, instant or
time-limited with a deadline in working days, the materials to attach, and who signs at which
step. It is a data file (`domain/catalogue_data/business_items.toml`), validated here.

Risk levels (陕社保发〔2016〕27号 arts.8, 11, 12; the 1/2/3 mapping is DOMAIN.md §12's inference):
- level 3: the teller who accepted it completes it (no sign-off);
- level 2: a reviewer (复核) signs, then it takes effect;
- level 1 (high risk): reviewer, deputy director (主管副主任) and director (主任) sign in turn; it
  is always time-limited.
A bundle (打包一件事) is one case for several items: the strictest item's steps, every item's
materials, and all effects together or none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import NotFound, ValidationFailed

CATEGORIES = {
    "5.1": "社会保险关系管理", "5.2": "社会保险费征缴", "5.3": "社会保险待遇给付",
    "5.4": "社会保险个人权益服务", "5.5": "服务机构管理", "5.6": "计划统计", "5.7": "基金管理",
    "5.8": "稽核内控", "5.9": "业务档案管理", "5.10": "社会保障卡应用", "5.11": "信息化应用",
    "5.12": "业务咨询查询",
}
INSTANT = "instant"  # 即时办结
TIME_LIMITED = "time_limited"  # 限时办结
MODES = (INSTANT, TIME_LIMITED)
STEPS_BY_LEVEL = {3: 0, 2: 1, 1: 3}
SIGNING_ROLES = ("reviewer", "deputy_director", "director")


@dataclass(frozen=True)
class Material:
    code: str
    name_zh: str
    required: bool


@dataclass(frozen=True)
class Step:
    name: str
    name_zh: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class BusinessItem:
    code: str
    name_zh: str
    category: str
    risk_level: int
    mode: str
    deadline_working_days: int  # 0 for instant items: the same working day
    materials: tuple[Material, ...]
    steps: tuple[Step, ...]
    effect: str  # the command run on completion; "" = not available in this system yet
    source: str

    @property
    def available(self) -> bool:
        return bool(self.effect)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "name_zh": self.name_zh, "category": self.category,
            "category_zh": CATEGORIES[self.category], "risk_level": self.risk_level,
            "mode": self.mode, "deadline_working_days": self.deadline_working_days,
            "materials": [{"code": m.code, "name_zh": m.name_zh, "required": m.required}
                          for m in self.materials],
            "steps": [{"name": s.name, "name_zh": s.name_zh, "roles": list(s.roles)}
                      for s in self.steps],
            "effect": self.effect, "available": self.available, "source": self.source,
        }


@dataclass(frozen=True)
class Bundle:
    code: str
    name_zh: str
    items: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Catalogue:
    items: dict[str, BusinessItem]
    bundles: dict[str, Bundle]

    @classmethod
    def from_document(cls, doc: dict[str, Any], roles: set[str],
                      file: str = "business_items.toml") -> Catalogue:
        """Build from the parsed data file; raises ValueError naming the entry and key."""
        items: dict[str, BusinessItem] = {}
        for i, row in enumerate(_entries(doc, "item", file)):
            item = _item(row, f"{file} item[{i}]", roles)
            if item.code in items:
                raise ValueError(f"{file} item[{i}]: code {item.code} is given twice")
            items[item.code] = item
        bundles: dict[str, Bundle] = {}
        for i, row in enumerate(doc.get("bundle", [])):
            where = f"{file} bundle[{i}]"
            bundle = Bundle(_text(row, "code", where), _text(row, "name_zh", where),
                            tuple(row.get("items", [])), _text(row, "source", where))
            if len(bundle.items) < 2:
                raise ValueError(f"{where}: a bundle has at least two items")
            unknown = [code for code in bundle.items if code not in items]
            if unknown:
                raise ValueError(f"{where}: unknown item {unknown[0]!r}")
            if bundle.code in items or bundle.code in bundles:
                raise ValueError(f"{where}: code {bundle.code} is given twice")
            bundles[bundle.code] = bundle
        return cls(items, bundles)

    def item(self, code: str) -> BusinessItem:
        found = self.items.get(code)
        if found is None:
            raise NotFound("item_unknown", f"no business item {code!r} in the catalogue; see "
                           "GET /v1/catalogue", field="item_code")
        return found

    def resolve(self, code: str) -> tuple[list[BusinessItem], Bundle | None]:
        """The items a case of `code` (an item or a bundle) covers."""
        bundle = self.bundles.get(code)
        if bundle is not None:
            return [self.items[c] for c in bundle.items], bundle
        return [self.item(code)], None


def case_terms(items: list[BusinessItem]) -> tuple[int, str, int, tuple[Step, ...],
                                                     tuple[Material, ...]]:
    """Risk level, mode, deadline, steps and materials of a case over `items`: the strictest
    item's level and steps, the longest deadline, every item's materials once."""
    strictest = min(items, key=lambda it: it.risk_level)
    mode = TIME_LIMITED if any(it.mode == TIME_LIMITED for it in items) else INSTANT
    deadline = max(it.deadline_working_days for it in items)
    materials: dict[str, Material] = {}
    for it in items:
        for m in it.materials:
            known = materials.get(m.code)
            materials[m.code] = m if known is None or m.required else known
    return strictest.risk_level, mode, deadline, strictest.steps, tuple(materials.values())


def _entries(doc: dict[str, Any], table: str, file: str) -> list[dict[str, Any]]:
    rows = doc.get(table)
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{file}: expected [[{table}]] entries")
    return rows


def _text(row: dict[str, Any], key: str, where: str, empty: bool = False) -> str:
    value = row.get(key)
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ValueError(f"{where}: `{key}` must be {'' if empty else 'non-empty '}text")
    return value


def _item(row: dict[str, Any], where: str, roles: set[str]) -> BusinessItem:
    level = row.get("risk_level")
    if level not in STEPS_BY_LEVEL:
        raise ValueError(f"{where}: `risk_level` must be 1, 2 or 3")
    mode = _text(row, "mode", where)
    if mode not in MODES:
        raise ValueError(f"{where}: `mode` must be instant or time_limited")
    days = row.get("deadline_working_days", 0)
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise ValueError(f"{where}: `deadline_working_days` must be a whole number ≥ 0")
    if (mode == INSTANT) != (days == 0):
        raise ValueError(f"{where}: an instant item has deadline 0, a time-limited one more")
    if level == 1 and mode != TIME_LIMITED:
        raise ValueError(f"{where}: a level-1 item is time-limited (陕社保发〔2016〕27号 art.8)")
    category = _text(row, "category", where)
    if category not in CATEGORIES:
        raise ValueError(f"{where}: `category` {category!r} is not a GB/T 35617 top level")
    materials = tuple(
        Material(_text(m, "code", where), _text(m, "name_zh", where), bool(m.get("required")))
        for m in row.get("materials", []))
    steps = []
    for s in row.get("steps", []):
        step_roles = tuple(s.get("roles", []))
        if not step_roles or any(r not in roles or r not in SIGNING_ROLES for r in step_roles):
            raise ValueError(f"{where}: step roles must be among {', '.join(SIGNING_ROLES)}")
        steps.append(Step(_text(s, "name", where), _text(s, "name_zh", where), step_roles))
    if len(steps) != STEPS_BY_LEVEL[level]:
        raise ValueError(f"{where}: a level-{level} item has {STEPS_BY_LEVEL[level]} sign-off "
                         f"steps, not {len(steps)}")
    return BusinessItem(
        code=_text(row, "code", where), name_zh=_text(row, "name_zh", where), category=category,
        risk_level=level, mode=mode, deadline_working_days=days, materials=materials,
        steps=tuple(steps), effect=_text(row, "effect", where, empty=True),
        source=_text(row, "source", where))


def require_available(items: list[BusinessItem]) -> None:
    missing = [it for it in items if not it.available]
    if missing:
        raise ValidationFailed(
            "item_not_available",
            f"{missing[0].code} ({missing[0].name_zh}) is in the catalogue but this system does "
            "not carry out its effect yet; handle it in the legacy system",
            field="item_code")
