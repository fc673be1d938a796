"""Risk monitoring (经办风险实时监控, DOMAIN.md §12): rules kept as data
(`domain/risk_data/risk_rules.toml`), evaluated on the event stream as it is written by the
monitor (infra/risk_monitor.py), which raises an `Alert` (domain/alert.py) for each finding.

Each rule function below takes what one event says and the little state the monitor keeps
(earlier reversals of a month, a staff member's reversals that day, a person's last base, a
recorded death, a case's earlier sign-offs) and returns the finding it makes, or None. Pure:
no I/O, no clock; times come in as recorded on the events.

A finding names the events it rests on (`EventRef`: log position, aggregate id, version, event
type) and a `key` that makes its alert's id: the same finding made again (a restart, a
re-evaluation) addresses the same alert, which the store then refuses to raise twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from domain.money import fen_to_yuan_text
from domain.periods import parse_period

BACKPAY_SPAN = "backpay_span"
REPEAT_REVERSAL = "repeat_reversal"
AFTER_DEATH = "after_death"
BASE_CHANGE = "base_change"
TELLER_REVERSALS = "teller_reversals"
SAME_POST_FAMILY = "same_post_family"
# Each rule's own parameters (keys of its entry in the data file).
RULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    BACKPAY_SPAN: ("years",),
    REPEAT_REVERSAL: (),
    AFTER_DEATH: (),
    BASE_CHANGE: ("percent",),
    TELLER_REVERSALS: ("reversals_per_day",),
    SAME_POST_FAMILY: ("post_family",),
}
COMMON_KEYS = ("code", "name_zh", "enabled", "severity", "source")
SEVERITIES = {"high": "高", "medium": "中", "low": "低"}
YEARS_MAX = 15  # 人社部令第13号: at most 15 years can be paid in one sum (DOMAIN.md S38)
PERCENT_MAX = 1000
REVERSALS_PER_DAY_MAX = 1000

CONTRIBUTION = "contribution"  # a posted contribution month (缴费)
PENSION = "pension"  # a pension payment (养老金发放)
BENEFIT = "benefit"  # another insurance's benefit paid (待遇支付, imported payment details)
POSTING_KINDS_ZH = {CONTRIBUTION: "缴费", PENSION: "养老金发放", BENEFIT: "待遇支付"}
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


# -- the rules, as data ------------------------------------------------------------------------

@dataclass(frozen=True)
class PostFamily:
    """A post family (岗位序列) of 人社厅发〔2021〕64号: the roles whose holders form it."""

    code: str
    name_zh: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class RiskRule:
    code: str
    name_zh: str
    enabled: bool
    severity: str
    source: str
    years: int = 0  # backpay_span
    percent: int = 0  # base_change
    reversals_per_day: int = 0  # teller_reversals
    post_families: tuple[PostFamily, ...] = ()  # same_post_family

    def as_dict(self) -> dict[str, Any]:
        by_rule: dict[str, dict[str, Any]] = {
            BACKPAY_SPAN: {"years": self.years},
            BASE_CHANGE: {"percent": self.percent},
            TELLER_REVERSALS: {"reversals_per_day": self.reversals_per_day},
            SAME_POST_FAMILY: {"post_families": [
                {"code": f.code, "name_zh": f.name_zh, "roles": list(f.roles)}
                for f in self.post_families]},
        }
        parameters = by_rule.get(self.code, {})
        return {"code": self.code, "name_zh": self.name_zh, "enabled": self.enabled,
                "severity": self.severity, "severity_zh": SEVERITIES[self.severity],
                "parameters": parameters, "source": self.source}


@dataclass(frozen=True)
class RiskRules:
    rules: dict[str, RiskRule]

    def __getitem__(self, code: str) -> RiskRule:
        return self.rules[code]

    @classmethod
    def from_document(cls, doc: dict[str, Any], roles: set[str],
                      file: str = "risk_rules.toml") -> RiskRules:
        """Build from the parsed data file; raises ValueError naming file, entry and key.
        Every rule the code knows must be listed exactly once (switched off, if need be)."""
        rows = doc.get("rule")
        if not isinstance(rows, list) or not rows:
            raise ValueError(f"{file}: expected [[rule]] entries")
        rules: dict[str, RiskRule] = {}
        for i, row in enumerate(rows):
            where = f"{file} rule[{i}]"
            rule = _rule(row, where, roles)
            if rule.code in rules:
                raise ValueError(f"{where}: rule {rule.code} is given twice; keep one entry")
            rules[rule.code] = rule
        missing = [code for code in RULE_PARAMETERS if code not in rules]
        if missing:
            raise ValueError(f"{file}: rule {missing[0]} is missing; list every rule "
                             "(switch one off with enabled = false)")
        return cls(rules)


def _rule(row: Any, where: str, roles: set[str]) -> RiskRule:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a table of keys")
    code = _text(row, "code", where)
    if code not in RULE_PARAMETERS:
        raise ValueError(f"{where}: unknown rule code {code!r}; the rules are "
                         + ", ".join(RULE_PARAMETERS))
    where = f"{where} ({code})"
    unknown = sorted(set(row) - set(COMMON_KEYS) - set(RULE_PARAMETERS[code]))
    if unknown:
        allowed = ", ".join((*COMMON_KEYS, *RULE_PARAMETERS[code]))
        raise ValueError(f"{where}: unknown key `{unknown[0]}`; its keys are {allowed}")
    enabled = row.get("enabled")
    if not isinstance(enabled, bool):
        raise ValueError(f"{where}: `enabled` must be true or false, got {enabled!r}")
    severity = _text(row, "severity", where)
    if severity not in SEVERITIES:
        raise ValueError(f"{where}: `severity` must be one of {', '.join(SEVERITIES)}, got "
                         f"{severity!r}")
    return RiskRule(
        code=code, name_zh=_text(row, "name_zh", where), enabled=enabled, severity=severity,
        source=_text(row, "source", where),
        years=_whole(row, "years", where, 1, YEARS_MAX) if code == BACKPAY_SPAN else 0,
        percent=_whole(row, "percent", where, 1, PERCENT_MAX) if code == BASE_CHANGE else 0,
        reversals_per_day=_whole(row, "reversals_per_day", where, 1, REVERSALS_PER_DAY_MAX)
        if code == TELLER_REVERSALS else 0,
        post_families=_families(row, where, roles) if code == SAME_POST_FAMILY else ())


def _text(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: `{key}` must be non-empty text, got {value!r}")
    return value.strip()


def _whole(row: dict[str, Any], key: str, where: str, low: int, high: int) -> int:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}: `{key}` must be a whole number {low}..{high}, got {value!r}")
    return value


def _families(row: dict[str, Any], where: str, roles: set[str]) -> tuple[PostFamily, ...]:
    entries = row.get("post_family")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{where}: expected [[rule.post_family]] entries (code, name_zh, "
                         "roles)")
    families: list[PostFamily] = []
    placed: dict[str, str] = {}
    for j, entry in enumerate(entries):
        at = f"{where} post_family[{j}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{at}: expected a table of keys")
        family = PostFamily(_text(entry, "code", at), _text(entry, "name_zh", at),
                            tuple(entry.get("roles") or ()))
        if any(f.code == family.code for f in families):
            raise ValueError(f"{at}: family {family.code} is given twice")
        if not family.roles:
            raise ValueError(f"{at}: `roles` must list at least one role")
        for role in family.roles:
            if role not in roles:
                raise ValueError(f"{at}: unknown role {role!r}; roles are "
                                 + ", ".join(sorted(roles)))
            if role in placed:
                raise ValueError(f"{at}: role {role} is in family {placed[role]} already; a "
                                 "post belongs to one family")
            placed[role] = family.code
        families.append(family)
    return tuple(families)


# -- what a finding is -------------------------------------------------------------------------

@dataclass(frozen=True)
class EventRef:
    """One stored event: its log position, aggregate id (canonical UUID text), version and
    type (e.g. "ContributionMonth.Reversed")."""

    position: int
    originator_id: str
    version: int
    type_name: str

    @property
    def key(self) -> str:
        return f"{self.originator_id}/{self.version}"

    def as_list(self) -> list[Any]:
        return [self.position, self.originator_id, self.version, self.type_name]

    @classmethod
    def from_list(cls, row: Sequence[Any]) -> EventRef:
        return cls(int(row[0]), str(row[1]), int(row[2]), str(row[3]))


@dataclass(frozen=True)
class Finding:
    rule: RiskRule
    key: str  # with the rule, what makes the alert's id
    summary_zh: str
    events: tuple[EventRef, ...]  # oldest first
    person_id: str | None = None
    actors: tuple[str, ...] = ()  # staff whose actions the finding is about
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def position(self) -> int:
        """Where in the log it was made: its triggering event, the newest it links to."""
        return self.events[-1].position


def _finding(rule: RiskRule, key: str, summary_zh: str, events: Iterable[EventRef],
             person_id: str | None, actors: Iterable[str | None],
             details: dict[str, Any]) -> Finding:
    ordered = tuple(sorted(set(events), key=lambda e: e.position))
    named = tuple(dict.fromkeys(a for a in actors if a))
    return Finding(rule, key, summary_zh, ordered, person_id, named, details)


def actor_of(meta: Any, source: Any) -> str | None:
    """Who did it: the acting user the command recorded (`meta.actor`), else the user in an
    API `source` ("api:<user>[:label]"), else the source itself ("demo", "import:…")."""
    if isinstance(meta, dict) and meta.get("actor"):
        return str(meta["actor"])
    if isinstance(source, str) and source:
        parts = source.split(":")
        return parts[1] if parts[0] == "api" and len(parts) > 1 and parts[1] else source
    return None


def bureau_day(recorded_at: str) -> str:
    """The day at the bureau (China Standard Time) of an ISO 8601 recording time."""
    moment = datetime.fromisoformat(recorded_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA_STANDARD_TIME).date().isoformat()


# -- the rules ---------------------------------------------------------------------------------

def backpay_span(rule: RiskRule, trigger: EventRef, person_id: str, periods: Sequence[str],
                 actor: str | None) -> Finding | None:
    """补缴 whose months span more than `years` years, first month to last."""
    if not rule.enabled or not periods:
        return None
    ordered = sorted(parse_period(p) for p in periods)
    first, last = ordered[0], ordered[-1]
    spanned = last.index - first.index + 1
    if spanned <= rule.years * 12:
        return None
    return _finding(
        rule, trigger.key,
        f"补缴核定 {first} 至 {last}，跨 {spanned} 个月，超过 {rule.years} 年",
        (trigger,), person_id, (actor,),
        {"first_period": str(first), "last_period": str(last), "months_spanned": spanned,
         "months_assessed": len(periods), "years_max": rule.years})


def repeat_reversal(rule: RiskRule, trigger: EventRef, person_id: str, period: str,
                    earlier: Sequence[EventRef], actor: str | None) -> Finding | None:
    """A reversal (红冲) of a month reversed before (`earlier`: its earlier reversals)."""
    if not rule.enabled or not earlier:
        return None
    count = len(earlier) + 1
    return _finding(
        rule, trigger.key, f"{period} 月份第 {count} 次红冲（此前已红冲 {len(earlier)} 次）",
        (*earlier, trigger), person_id, (actor,),
        {"period": period, "reversals": count, "month_id": trigger.originator_id})


def teller_reversals(rule: RiskRule, trigger: EventRef, actor: str, day: str,
                     earlier_that_day: Sequence[EventRef]) -> Finding | None:
    """The first reversal over `reversals_per_day` by one staff member in one day: one alert
    per person and day, linking that day's reversals up to it."""
    if not rule.enabled or len(earlier_that_day) != rule.reversals_per_day:
        return None
    count = len(earlier_that_day) + 1
    return _finding(
        rule, trigger.key,
        f"{actor} 于 {day} 已红冲 {count} 笔，超过单日 {rule.reversals_per_day} 笔",
        (*earlier_that_day, trigger), None, (actor,),
        {"day": day, "reversals": count, "reversals_per_day": rule.reversals_per_day})


@dataclass(frozen=True)
class DeclaredBase:
    year: int
    base_fen: int
    ref: EventRef


def base_change(rule: RiskRule, trigger: EventRef, person_id: str, declared: DeclaredBase,
                previous: DeclaredBase | None, actor: str | None) -> Finding | None:
    """A declared base more than `percent` % above or below the person's previous one."""
    if not rule.enabled or previous is None or previous.base_fen <= 0:
        return None
    change_fen = declared.base_fen - previous.base_fen
    if abs(change_fen) * 100 <= rule.percent * previous.base_fen:
        return None
    change_percent = (Decimal(change_fen) * 100 / previous.base_fen).quantize(Decimal("0.1"))
    direction = "上调" if change_fen > 0 else "下调"
    return _finding(
        rule, trigger.key,
        f"{declared.year} 年缴费基数 {fen_to_yuan_text(declared.base_fen)} 元，较上次申报"
        f"（{previous.year} 年 {fen_to_yuan_text(previous.base_fen)} 元）{direction} "
        f"{abs(change_percent)}%，超过 {rule.percent}%",
        (previous.ref, trigger), person_id, (actor,),
        {"year": declared.year, "base_fen": declared.base_fen, "previous_year": previous.year,
         "previous_base_fen": previous.base_fen, "change_percent": str(change_percent),
         "percent_max": rule.percent})


@dataclass(frozen=True)
class Death:
    person_id: str
    date_of_death: str  # ISO date
    ref: EventRef

    @property
    def period(self) -> str:
        """The month of death: contributions and the pension are due for it, not after."""
        return self.date_of_death[:7]


@dataclass(frozen=True)
class Posting:
    """Money posted to a person for a period: a contribution month, a pension payment or
    another insurance's benefit payment."""

    ref: EventRef
    period: str
    kind: str  # CONTRIBUTION, PENSION or BENEFIT
    actor: str | None = None


def after_death(rule: RiskRule, trigger: EventRef, death: Death, postings: Sequence[Posting],
                key: str | None = None) -> Finding | None:
    """Postings for months after the month of a recorded death. `trigger` is the posting (the
    death was recorded first) or the death (the postings were there before it); `key` groups
    postings made by one decision (a back-payment's months) into one alert."""
    late = [p for p in postings if p.period > death.period]
    if not rule.enabled or not late:
        return None
    periods = sorted({p.period for p in late})
    kinds = "、".join(POSTING_KINDS_ZH[k] for k in sorted({p.kind for p in late}))
    span = periods[0] if len(periods) == 1 else f"{periods[0]} 至 {periods[-1]}"
    if trigger == death.ref:
        summary = (f"登记死亡（{death.date_of_death}）时，已有所属期 {span} 的{kinds}记录，"
                   "在死亡月份之后")
    else:
        summary = f"所属期 {span} 的{kinds}在登记的死亡日期 {death.date_of_death} 之后"
    return _finding(
        rule, key or trigger.key, summary, (death.ref, *(p.ref for p in late)),
        death.person_id, (p.actor for p in late),
        {"date_of_death": death.date_of_death, "periods": periods,
         "kinds": sorted({p.kind for p in late})})


@dataclass(frozen=True)
class SignOff:
    signer: str
    roles: tuple[str, ...]  # every role the signer holds, and the one they signed in
    ref: EventRef


def post_families_of(roles: Iterable[str], families: Sequence[PostFamily]) -> list[PostFamily]:
    held = set(roles)
    return [f for f in families if held & set(f.roles)]


def same_post_family(rule: RiskRule, trigger: EventRef, case_id: str, sign_off: SignOff,
                     earlier: Sequence[SignOff]) -> Finding | None:
    """A sign-off by someone of a post family another signer of the case belongs to."""
    if not rule.enabled:
        return None
    mine = post_families_of(sign_off.roles, rule.post_families)
    for other in earlier:
        if other.signer == sign_off.signer:
            continue
        shared = [f for f in post_families_of(other.roles, rule.post_families) if f in mine]
        if shared:
            family = shared[0]
            return _finding(
                rule, trigger.key,
                f"办件由同一岗位序列（{family.name_zh}）的 {other.signer} 与 "
                f"{sign_off.signer} 签批", (other.ref, trigger), None,
                (other.signer, sign_off.signer),
                {"case_id": case_id, "post_family": family.code,
                 "post_family_zh": family.name_zh, "signers": [other.signer, sign_off.signer]})
    return None
