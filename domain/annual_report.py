"""The annual report (年度报告) of a pooling region, built from plain rows of the read models
(infra/annual_report_queries.py reads them at one log position): participants per insurance
and employer type at the year's end, fund income on two bases, fund expenditure (pension
payments and the other insurances' imported benefit payments, on two bases: paid in the year and
for the year's months), targets and their completion,
retirements and pension awards, the link to the residents' scheme, back-payments, counter
business; and, named as such, what the ledger does not record yet. The shape follows the
bureau's year-end report (shared/reference/000, section 一).

Status of a person in an insurance at 31 December (one status, in this order):
1. died by then, or (pension only) linked to the residents' scheme (城乡衔接) by then, or the
   pension relationship transferred to another region (its last transfer by then was out): no
   longer a participant;
2. retired (离退休) by then: a retiree of the pension; for the other insurances not counted —
   the ledger does not record retirees' medical cover;
3. contributing (缴费): at least one month of the year posted, net of reversals (红冲);
4. interrupted (中断缴费): a month posted in an earlier year, none in this one;
5. otherwise not a participant (registered, never posted).
Participants (参保人数) = contributing + interrupted (= in work, 在职) + retired. The employer
type is the one of the employer of the latest month posted up to the year's end.

Pure: no I/O, no clock. Money is integer fen; rates and averages are Decimal, rounded once
(domain/money.round_fen) and written as text ("105.37") so that the report is plain JSON."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from domain.annual_targets import INDICATORS, Target
from domain.benefit_payment import MATERNITY, MEDICAL, UNEMPLOYMENT, WORK_INJURY
from domain.certification import CertificationRow, PensionerRow, year_counts
from domain.money import round_fen
from domain.policy import PENSION
from domain.registration import EMPLOYER_TYPES
from domain.transfer import IN, OUT, POSTED, REMITTED

ENTERPRISE = "enterprise"
PUBLIC_INSTITUTION = "public_institution"
UNKNOWN = "unknown"
EMPLOYER_TYPE_NAMES_ZH = {**EMPLOYER_TYPES, UNKNOWN: "单位未登记"}
EMPLOYER_TYPE_ORDER = (ENTERPRISE, PUBLIC_INSTITUTION, UNKNOWN)

CONTRIBUTING = "contributing"
INTERRUPTED = "interrupted"
RETIRED = "retired"

RECEIVED = "received"  # fund income bases, as in projections/fund_income.py
PERIOD = "period"
CONTRIBUTION = "contribution"
REVERSAL = "reversal"

# milestone kinds, as in projections/participation_years.py
MILESTONE_RETIRED = "retired"
MILESTONE_DIED = "died"
MILESTONE_LINKED = "linked_to_residents"
MILESTONE_PENSION_AWARDED = "pension_awarded"

BACKPAY_ASSESSED = "assessed"
BACKPAY_COLLECTED = "collected"
BACKPAY_CANCELLED = "cancelled"
CASE_COMPLETED = "completed"
CASE_OPEN = "open"
CASE_STATUSES = ("completed", "rejected", "withdrawn", "open")

# Insurances whose benefits the ledger pays itself (PensionPayment, 养老金发放): their expenditure
# is always recorded. The benefits of the others are paid by other systems and recorded from
# their payment details (BenefitPayment, domain/benefit_payment.py): an insurance's expenditure
# and recipients are figures once a payment of the year is on record, else not recorded (None
# and an entry in `not_recorded`, never 0: the file may just not be imported yet).
PAYING_INSURANCES = (PENSION,)
IMPORTED_BENEFIT_NAMES_ZH = {UNEMPLOYMENT: "失业", MEDICAL: "医疗", WORK_INJURY: "工伤",
                             MATERNITY: "生育"}
EXPENDITURE_PARTS = ("basic_fen", "transitional_fen", "account_from_personal_fen",
                     "account_from_pool_fen", "adjustment_fen")

# Figures of the bureau's year-end report the ledger does not hold: shown as such, never as 0.
# Besides these, the expenditure and recipients of each insurance whose payment details of the
# year are not imported (`_benefits_not_recorded`).
NOT_RECORDED: tuple[dict[str, str], ...] = (
    {"key": "residents_participants", "name_zh": "城乡居民养老、医疗保险参保人数",
     "reason_zh": "本系统不记录城乡居民缴费与参保；仅有从职工养老保险转入的个人账户（城乡衔接）",
     "reason_en": "residents' contributions and enrolment are not recorded; only accounts "
                  "moved from the employee scheme"},
    {"key": "public_institution_pension", "name_zh": "机关事业单位养老保险（险种120）",
     "reason_zh": "本系统按险种110记账；机关事业单位人员按单位类型单列",
     "reason_en": "the ledger posts every employee under 110; public institutions are shown "
                  "by employer type"},
)

DEFINITIONS_ZH: tuple[str, ...] = (
    "缴费人员：本年度（费款所属期）至少有一个月缴费已记账且未被红冲的在职参保人员。",
    "中断缴费人员：以前年度有缴费记录、本年度无缴费记录，"
    "且年末未退休、未死亡、未转入城乡居民养老保险的人员。",
    "离退休人员：年末前已办理退休（职工养老保险），不含年末前死亡人员。",
    "参保人数 = 缴费人员 + 中断缴费人员（在职）+ 离退休人员；"
    "失业、医疗、工伤、生育保险不计离退休人员（本系统不记录退休人员医疗保障）。",
    "单位类型：参保人年末前最后一个缴费月份所属单位的类型（企业 / 机关事业单位）。",
    "基金收入（本年入账）：本年度（按中国标准时间记账日）记入各险种统筹基金和个人账户的缴费，"
    "减去红冲，含补缴的滞纳金和利息；暂收款分配前不计入。",
    "本年所属期缴费收入：费款所属期在本年度的缴费（单位 + 个人），减去红冲，无论何时记账。",
    "基金支出（本年支付）：本年度（按中国标准时间记账日）发放的基本养老金，"
    "含个人账户养老金（个人账户支付部分与个人账户用尽后统筹基金支付部分）；"
    "本年所属期待遇：发放所属期在本年度的养老金，无论何时发放；"
    "享受待遇人数：本年所属期内至少发放一个月养老金的人数。"
    "失业、医疗、工伤、生育保险的待遇由其他系统支付，按导入的支付明细记账："
    "本年支付按支付明细的支付日期（非记账日）在本年度计，本年所属期待遇按待遇所属期，"
    "享受待遇人数为本年所属期内至少有一笔待遇支付的人数；"
    "本年度未导入支付明细的险种为无数据。",
    "养老金调整：调整年度为本年度的调整（自本年1月起增加，调整对象为上年末前退休、"
    "本年1月前未死亡的人员）；月增加额合计为各人月增加额之和，人均增加额四舍五入到分；"
    "补发为调整时已发放的本年1月起各月按月增加额一次补发，由统筹基金支付，"
    "不计入上述基金支出（养老金发放），另行列示；此后各月的增加额计入养老金发放。",
    "待遇资格认证：认证次数按认证日期在本年度计，分数据比对与自助认证；"
    "年末逾期未认证人数为年末在世、上次认证（或退休）满认证周期仍未认证的离退休人员；"
    "年末暂停发放人数为12月待遇因逾期未认证而暂停的人数；"
    "恢复发放人数为本年度认证后恢复发放（暂停期间待遇补发）的人次。",
    "跨统筹区转移接续（养老保险）：转入按记账日期（基金到账记账）在本年度计，转出按基金划转日期"
    "在本年度计；金额为个人账户储存额与统筹基金（1998年起各月缴费基数之和的12%）之和；"
    "年末在途为年末前已受理（发出联系函）、年末前尚未到账记账的转入；"
    "逾期为在途且已超过转出地15个工作日办理期限的转入。"
    "转出后（其后未再转入）不再计为本地区职工养老保险参保人员。",
    "任务完成率 = 实际数 ÷ 任务数，四舍五入保留两位小数。",
)


# -- inputs -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ParticipationGroup:
    """Persons alike at the year's end: employer type, the insurances with a month posted in
    the year and in earlier years, and the milestones reached by the year's end."""

    employer_type: str
    in_year: frozenset[str]
    before_year: frozenset[str]
    retired: bool
    died: bool
    linked: bool
    persons: int
    transferred_out: bool = False  # the pension relationship moved to another region


@dataclass(frozen=True)
class MilestoneRow:
    """Milestones dated in the year, of one kind and employer type."""

    kind: str
    employer_type: str
    persons: int
    amount_fen: int  # linked: account balance moved; pension awarded: monthly pension


@dataclass(frozen=True)
class IncomeRow:
    basis: str  # RECEIVED or PERIOD
    month: str  # YYYY-MM
    insurance: str
    employer_type: str
    kind: str  # CONTRIBUTION or REVERSAL
    amount_fen: int


@dataclass(frozen=True)
class ExpenditureRow:
    """Benefits paid from an insurance's fund in one month, on one basis: RECEIVED (paid in the
    month: the pension by the ledger day of its payment, the imported benefits of the other
    insurances by their own payment date, 支付日期) or PERIOD (paid for the month, whenever).
    The parts are the pension's; an imported benefit has its amount and payments only."""

    basis: str
    month: str  # YYYY-MM
    insurance: str
    amount_fen: int
    basic_fen: int
    transitional_fen: int
    account_from_personal_fen: int  # the account part the personal accounts bore
    account_from_pool_fen: int  # the account part the pooled fund bore (accounts used up)
    payments: int
    adjustment_fen: int = 0  # the yearly adjustments in effect (养老金调整), pooled fund


@dataclass(frozen=True)
class AdjustmentStats:
    """The pension adjustments of the report's year (养老金调整, adjustment year = the year)."""

    persons: int = 0
    monthly_increase_fen: int = 0
    arrears_months: int = 0
    arrears_fen: int = 0


@dataclass(frozen=True)
class BackPaymentRow:
    person_id: str
    status: str
    assessed_day: str
    decided_day: str | None
    collected_on: str | None
    months: int
    principal_fen: int
    late_fee_fen: int
    interest_fen: int
    total_fen: int


@dataclass(frozen=True)
class CaseRow:
    code: str
    name_zh: str
    status: str
    opened_on: str
    deadline: str
    completed_on: str | None
    rating: int | None


@dataclass(frozen=True)
class TransferRow:
    """A pension transfer between pooling regions (projections/transfers.py)."""

    direction: str  # "in" or "out"
    status: str
    person_id: str
    other_region_code: str
    other_region_name: str
    opened_on: str  # in: accepted (letter sent); out: the new region's letter received
    due_on: str | None  # in: the old region's funds due
    completed_on: str | None  # in: posted; out: remitted
    contribution_months: int
    account_fen: int
    pooled_fen: int


@dataclass(frozen=True)
class AnnualReportInputs:
    region_code: str
    year: int
    position: int  # the log position every figure is as known at
    as_of: str  # the recorded time of the event at `position`
    as_of_day: str  # its ledger day (China Standard Time)
    insurances: Mapping[str, str]  # employee insurance code → Chinese name, in report order
    participation: Sequence[ParticipationGroup]
    milestones: Sequence[MilestoneRow]
    income: Sequence[IncomeRow]
    fund_movements_fen: Mapping[str, int]  # received basis counted again from fund_movements
    year_end_balances_fen: Mapping[str, int]  # insurance → pooled fund + personal accounts
    residents_accounts_fen: int  # personal:*:170 at the year's end
    backpayments: Sequence[BackPaymentRow]
    cases: Sequence[CaseRow]
    targets: Sequence[Target] = ()
    targets_file: str = ""
    # Benefit payments: the pension's (PAYING_INSURANCES) and the imported ones of the other
    # insurances; an insurance of neither kind with no row of the year stays None.
    expenditure: Sequence[ExpenditureRow] = ()
    benefit_recipients: Mapping[str, int] = field(default_factory=dict)  # paid for the year
    pension_adjustment: AdjustmentStats = AdjustmentStats()
    # 待遇资格认证: every pensioner and certification on record, and the rule's period.
    pensioners: Sequence[PensionerRow] = ()
    certifications: Sequence[CertificationRow] = ()
    certification_period_days: int = 365
    transfers: Sequence[TransferRow] = ()


# -- rounding ---------------------------------------------------------------------------------

HUNDREDTHS = Decimal("0.01")


def ratio_2dp(numerator: int, denominator: int) -> Decimal:
    """numerator ÷ denominator to two decimals, rounded once, half up (round_fen is the
    project's one rounding function; here it rounds hundredths)."""
    return (Decimal(round_fen(Decimal(numerator) * 100 / Decimal(denominator))) / 100
            ).quantize(HUNDREDTHS)


def percent_2dp(numerator: int, denominator: int) -> Decimal:
    """numerator ÷ denominator as a percentage with two decimals: 323444 of 307000 → 105.36."""
    return ratio_2dp(numerator * 100, denominator)


# -- building ---------------------------------------------------------------------------------

def status_at_year_end(group: ParticipationGroup, insurance: str) -> str | None:
    """The group's status in `insurance` at 31 December (module docstring), None when not a
    participant."""
    if group.died or (insurance == PENSION and (group.linked or group.transferred_out)):
        return None
    if group.retired:
        return RETIRED if insurance == PENSION else None
    if insurance in group.in_year:
        return CONTRIBUTING
    if insurance in group.before_year:
        return INTERRUPTED
    return None


@dataclass
class _Counts:
    contributing: int = 0
    interrupted: int = 0
    retired: int = 0
    new_contributors: int = 0

    def add(self, status: str, persons: int, new: bool) -> None:
        setattr(self, status, getattr(self, status) + persons)
        if new:
            self.new_contributors += persons

    def as_dict(self, insurance: str) -> dict[str, Any]:
        in_work = self.contributing + self.interrupted
        retired = self.retired if insurance == PENSION else None
        return {"participants": in_work + (retired or 0), "in_work": in_work,
                "contributing": self.contributing, "interrupted": self.interrupted,
                "retired": retired, "new_contributors": self.new_contributors}


def _types_shown(present: Iterable[str]) -> list[str]:
    """Enterprise and public institution always; an unknown employer type only when present."""
    found = set(present)
    return [t for t in EMPLOYER_TYPE_ORDER if t != UNKNOWN or t in found] + sorted(
        found - set(EMPLOYER_TYPE_ORDER))


def _participation(inputs: AnnualReportInputs) -> list[dict[str, Any]]:
    result = []
    for insurance, name_zh in inputs.insurances.items():
        total = _Counts()
        by_type: dict[str, _Counts] = {}
        for group in inputs.participation:
            status = status_at_year_end(group, insurance)
            if status is None:
                continue
            new = status == CONTRIBUTING and insurance not in group.before_year
            total.add(status, group.persons, new)
            by_type.setdefault(group.employer_type, _Counts()).add(status, group.persons, new)
        result.append({
            "insurance": insurance, "name_zh": name_zh, **total.as_dict(insurance),
            "by_employer_type": [
                {"employer_type": t, "name_zh": EMPLOYER_TYPE_NAMES_ZH.get(t, t),
                 **by_type.get(t, _Counts()).as_dict(insurance)}
                for t in _types_shown(by_type)],
        })
    return result


def _milestones(inputs: AnnualReportInputs, kind: str) -> tuple[int, int, dict[str, int]]:
    """Persons, amount and persons per employer type of the year's milestones of a kind."""
    persons = amount = 0
    by_type: dict[str, int] = {}
    for row in inputs.milestones:
        if row.kind == kind:
            persons += row.persons
            amount += row.amount_fen
            by_type[row.employer_type] = by_type.get(row.employer_type, 0) + row.persons
    return persons, amount, by_type


def _retirement(inputs: AnnualReportInputs) -> dict[str, Any]:
    retirees, _, retirees_by_type = _milestones(inputs, MILESTONE_RETIRED)
    awards, monthly_fen, _ = _milestones(inputs, MILESTONE_PENSION_AWARDED)
    died, _, _ = _milestones(inputs, MILESTONE_DIED)
    return {
        "new_retirees": retirees,
        "new_retirees_by_employer_type": [
            {"employer_type": t, "name_zh": EMPLOYER_TYPE_NAMES_ZH.get(t, t),
             "persons": retirees_by_type.get(t, 0)} for t in _types_shown(retirees_by_type)],
        "pension_awards": awards,
        "pension_awards_monthly_fen": monthly_fen,
        "average_monthly_pension_fen": round_fen(Decimal(monthly_fen) / awards) if awards
        else None,
        "deaths": died,
    }


def _pension_adjustment(stats: AdjustmentStats) -> dict[str, Any]:
    return {"persons_adjusted": stats.persons,
            "monthly_increase_fen": stats.monthly_increase_fen,
            "average_increase_fen": round_fen(Decimal(stats.monthly_increase_fen)
                                              / stats.persons) if stats.persons else None,
            "arrears_months": stats.arrears_months, "arrears_fen": stats.arrears_fen}


def _income(rows: Iterable[IncomeRow], basis: str, insurance: str,
            employer_type: str | None = None, kind: str | None = None) -> int:
    return sum(r.amount_fen for r in rows if r.basis == basis and r.insurance == insurance
               and (employer_type is None or r.employer_type == employer_type)
               and (kind is None or r.kind == kind))


def _expenditure(rows: Iterable[ExpenditureRow], basis: str, insurance: str,
                 part: str = "amount_fen") -> int:
    return sum(getattr(r, part) for r in rows if r.basis == basis and r.insurance == insurance)


def recorded_insurances(inputs: AnnualReportInputs) -> frozenset[str]:
    """The insurances whose expenditure of the year is recorded: those the ledger pays itself,
    and those with an imported benefit payment paid in the year or for a month of it."""
    return frozenset(PAYING_INSURANCES) | {r.insurance for r in inputs.expenditure}


def _benefits_not_recorded(inputs: AnnualReportInputs) -> list[dict[str, str]]:
    """The expenditure and recipients of the insurances with no payment details of the year."""
    missing = [i for i in IMPORTED_BENEFIT_NAMES_ZH
               if i in inputs.insurances and i not in recorded_insurances(inputs)]
    if not missing:
        return []
    names = "、".join(IMPORTED_BENEFIT_NAMES_ZH[i] for i in missing)
    codes = ", ".join(missing)
    reason_zh = (f"{names}保险的待遇由其他系统支付，本年度尚未导入其支付明细"
                 "（shebao import benefits）")
    reason_en = (f"the benefits of {codes} are paid by other systems and no payment details "
                 "of the year are imported (shebao import benefits)")
    return [{"key": "benefit_recipients", "name_zh": f"{names}保险享受待遇人数",
             "reason_zh": reason_zh, "reason_en": reason_en},
            {"key": "expenditure", "name_zh": f"{names}保险基金支出",
             "reason_zh": reason_zh, "reason_en": reason_en}]


def _funds(inputs: AnnualReportInputs) -> dict[str, Any]:
    rows = inputs.income
    spent = inputs.expenditure
    recorded = recorded_insurances(inputs)
    insurances = []
    differences = []
    types_present = {r.employer_type for r in rows}
    for insurance, name_zh in inputs.insurances.items():
        received = _income(rows, RECEIVED, insurance)
        recounted = int(inputs.fund_movements_fen.get(insurance, 0))
        if received != recounted:
            differences.append({"insurance": insurance, "income_received_fen": received,
                                "fund_movements_fen": recounted})
        paying = insurance in recorded
        insurances.append({
            "insurance": insurance, "name_zh": name_zh,
            "income_received_fen": received,
            "contribution_received_fen": _income(rows, RECEIVED, insurance, kind=CONTRIBUTION),
            "reversal_received_fen": _income(rows, RECEIVED, insurance, kind=REVERSAL),
            "income_for_periods_fen": _income(rows, PERIOD, insurance),
            # An insurance whose benefits of the year are not recorded: None, never 0.
            "expenditure_fen": _expenditure(spent, RECEIVED, insurance) if paying else None,
            "expenditure_for_periods_fen": (_expenditure(spent, PERIOD, insurance) if paying
                                            else None),
            "expenditure_parts": {
                part: _expenditure(spent, RECEIVED, insurance, part)
                for part in EXPENDITURE_PARTS} if insurance in PAYING_INSURANCES else None,
            "benefit_recipients": (int(inputs.benefit_recipients.get(insurance, 0)) if paying
                                   else None),
            "year_end_balance_fen": int(inputs.year_end_balances_fen.get(insurance, 0)),
            "by_employer_type": [
                {"employer_type": t, "name_zh": EMPLOYER_TYPE_NAMES_ZH.get(t, t),
                 "income_received_fen": _income(rows, RECEIVED, insurance, t),
                 "income_for_periods_fen": _income(rows, PERIOD, insurance, t)}
                for t in _types_shown(types_present)],
        })
    months = [f"{inputs.year:04d}-{m:02d}" for m in range(1, 13)]
    monthly: dict[tuple[str, str, str], int] = {}
    for r in rows:
        key = (r.basis, r.month, r.insurance)
        monthly[key] = monthly.get(key, 0) + r.amount_fen
    monthly_spent: dict[tuple[str, str, str], int] = {}
    for e in spent:
        key = (e.basis, e.month, e.insurance)
        monthly_spent[key] = monthly_spent.get(key, 0) + e.amount_fen

    def spent_in(basis: str, month: str) -> dict[str, int | None]:
        return {i: monthly_spent.get((basis, month, i), 0) if i in recorded else None
                for i in inputs.insurances}

    return {
        "insurances": insurances,
        "monthly": [
            {"month": month,
             "received_fen": {i: monthly.get((RECEIVED, month, i), 0) for i in inputs.insurances},
             "for_periods_fen": {i: monthly.get((PERIOD, month, i), 0)
                                 for i in inputs.insurances},
             "expenditure_fen": spent_in(RECEIVED, month),
             "expenditure_for_periods_fen": spent_in(PERIOD, month)}
            for month in months],
        "ties_fund_movements": not differences,
        "differences": differences,
    }


def _actual(target: Target, participation: list[dict[str, Any]], funds: dict[str, Any]
            ) -> int:
    if target.indicator in ("participants", "contributors"):
        found = next(p for p in participation if p["insurance"] == target.insurance)
        key = "participants" if target.indicator == "participants" else "contributing"
    else:
        found = next(f for f in funds["insurances"] if f["insurance"] == target.insurance)
        key = "income_received_fen" if target.indicator == "income" else (
            "income_for_periods_fen")
    if target.employer_type is not None:
        found = next(t for t in found["by_employer_type"]
                     if t["employer_type"] == target.employer_type)
    return int(found[key])


def _targets(inputs: AnnualReportInputs, participation: list[dict[str, Any]],
             funds: dict[str, Any]) -> dict[str, Any]:
    items = []
    for target in inputs.targets:
        if target.year != inputs.year or target.insurance not in inputs.insurances:
            continue
        actual = _actual(target, participation, funds)
        indicator = INDICATORS[target.indicator]
        items.append({
            "indicator": target.indicator, "name_zh": indicator.name_zh,
            "insurance": target.insurance, "insurance_name_zh": inputs.insurances[
                target.insurance],
            "employer_type": target.employer_type,
            "employer_type_name_zh": EMPLOYER_TYPE_NAMES_ZH.get(target.employer_type or "", ""),
            "unit": indicator.value_key, "target": target.value, "actual": actual,
            "completion_percent": str(percent_2dp(actual, target.value)),
            "source": target.source,
        })
    return {"file": inputs.targets_file, "items": items}


def _in_year(day: str | None, year: int) -> bool:
    return day is not None and day[:4] == f"{year:04d}"


def _moved(rows: Sequence[TransferRow]) -> dict[str, int]:
    return {"count": len(rows), "persons": len({r.person_id for r in rows}),
            "months": sum(r.contribution_months for r in rows),
            "account_fen": sum(r.account_fen for r in rows),
            "pooled_fen": sum(r.pooled_fen for r in rows),
            "total_fen": sum(r.account_fen + r.pooled_fen for r in rows)}


def _cross_region(inputs: AnnualReportInputs) -> dict[str, Any]:
    """Pension transfers in (posted in the year) and out (remitted in the year), with the
    transfers in still waiting for the old region at the year's end (or the position's day if
    earlier) and those of them past the old region's 15 working days."""
    year, cut = inputs.year, min(f"{inputs.year:04d}-12-31", inputs.as_of_day)
    done = [r for r in inputs.transfers if _in_year(r.completed_on, year)
            and r.status in (POSTED, REMITTED)]  # not a cancelled transfer in
    moved_in = [r for r in done if r.direction == IN]
    moved_out = [r for r in done if r.direction == OUT]
    waiting = [r for r in inputs.transfers if r.direction == IN and r.opened_on <= cut
               and (r.completed_on is None or r.completed_on > cut)]
    regions: dict[str, dict[str, Any]] = {}
    for r in done:
        region = regions.setdefault(r.other_region_code, {
            "region_code": r.other_region_code, "name_zh": r.other_region_name,
            "in_count": 0, "in_fen": 0, "out_count": 0, "out_fen": 0})
        region[f"{r.direction}_count"] += 1
        region[f"{r.direction}_fen"] += r.account_fen + r.pooled_fen
    return {
        "accepted_in": sum(1 for r in inputs.transfers
                           if r.direction == IN and _in_year(r.opened_on, year)),
        "transfers_in": _moved(moved_in),
        "transfers_out": _moved(moved_out),
        "net_fen": sum(r.account_fen + r.pooled_fen for r in moved_in)
        - sum(r.account_fen + r.pooled_fen for r in moved_out),
        "in_transit_at_year_end": len(waiting),
        "overdue_at_year_end": sum(1 for r in waiting if r.due_on is not None
                                   and r.due_on < cut),
        "by_region": sorted(regions.values(), key=lambda r: r["region_code"]),
    }


def _backpayments(inputs: AnnualReportInputs) -> dict[str, Any]:
    year, end = inputs.year, f"{inputs.year:04d}-12-31"
    rows = inputs.backpayments
    assessed = [r for r in rows if _in_year(r.assessed_day, year)]
    collected = [r for r in rows if r.status == BACKPAY_COLLECTED
                 and _in_year(r.collected_on, year)]
    return {
        "assessed": {"count": len(assessed), "months": sum(r.months for r in assessed),
                     "total_fen": sum(r.total_fen for r in assessed)},
        "collected": {"count": len(collected),
                      "persons": len({r.person_id for r in collected}),
                      "months": sum(r.months for r in collected),
                      "principal_fen": sum(r.principal_fen for r in collected),
                      "late_fee_fen": sum(r.late_fee_fen for r in collected),
                      "interest_fen": sum(r.interest_fen for r in collected),
                      "total_fen": sum(r.total_fen for r in collected)},
        "cancelled": sum(1 for r in rows if r.status == BACKPAY_CANCELLED
                         and _in_year(r.decided_day, year)),
        "open_at_year_end": sum(1 for r in rows if r.assessed_day <= end and (
            r.status == BACKPAY_ASSESSED or (r.decided_day or "") > end)),
    }


@dataclass
class _CaseCounts:
    opened: int = 0
    completed: int = 0
    rejected: int = 0
    withdrawn: int = 0
    open: int = 0
    instant_completed: int = 0
    overdue: int = 0
    ratings: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"opened": self.opened, "completed": self.completed, "rejected": self.rejected,
                "withdrawn": self.withdrawn, "open": self.open,
                "instant_completed": self.instant_completed,
                "instant_completion_percent": str(percent_2dp(
                    self.instant_completed, self.completed)) if self.completed else None,
                "overdue": self.overdue, "ratings": len(self.ratings),
                "average_rating": str(ratio_2dp(sum(self.ratings), len(self.ratings)))
                if self.ratings else None}


def _cases(inputs: AnnualReportInputs) -> dict[str, Any]:
    """Cases opened in the year, as they stand at the report's position. Overdue: completed
    after the deadline, or still open past it (at the year's end, or the position's day if
    earlier)."""
    cut = min(f"{inputs.year:04d}-12-31", inputs.as_of_day)
    total = _CaseCounts()
    items: dict[str, tuple[str, _CaseCounts]] = {}
    for row in inputs.cases:
        if not _in_year(row.opened_on, inputs.year):
            continue
        item = items.setdefault(row.code, (row.name_zh, _CaseCounts()))[1]
        for counts in (total, item):
            counts.opened += 1
            if row.status in CASE_STATUSES:
                setattr(counts, row.status, getattr(counts, row.status) + 1)
            if row.status == CASE_COMPLETED and row.completed_on == row.opened_on:
                counts.instant_completed += 1
            if (row.completed_on and row.completed_on > row.deadline) or (
                    row.status == CASE_OPEN and row.deadline < cut):
                counts.overdue += 1
            if row.rating is not None:
                counts.ratings.append(row.rating)
    return {**total.as_dict(), "items": [
        {"code": code, "name_zh": name_zh, **counts.as_dict()}
        for code, (name_zh, counts) in sorted(items.items())]}


def build_annual_report(inputs: AnnualReportInputs) -> dict[str, Any]:
    """The report as plain JSON values (ints, strings, None, lists, dicts), with the sha256 of
    its canonical JSON (keys sorted, no whitespace) under `content_sha256`."""
    participation = _participation(inputs)
    funds = _funds(inputs)
    linked, linked_fen, _ = _milestones(inputs, MILESTONE_LINKED)
    report: dict[str, Any] = {
        "region_code": inputs.region_code,
        "year": inputs.year,
        "position": inputs.position,
        "as_of": inputs.as_of,
        "as_of_day": inputs.as_of_day,
        "participation": participation,
        "funds": funds,
        "targets": _targets(inputs, participation, funds),
        "retirement": _retirement(inputs),
        "pension_adjustment": _pension_adjustment(inputs.pension_adjustment),
        "certification": year_counts(inputs.year, inputs.pensioners, inputs.certifications,
                                     inputs.certification_period_days),
        "transfers": {"scheme_links": {"persons": linked, "amount_fen": linked_fen},
                      "residents_accounts_year_end_fen": inputs.residents_accounts_fen,
                      "cross_region": _cross_region(inputs)},
        "backpayments": _backpayments(inputs),
        "cases": _cases(inputs),
        "not_recorded": [*(dict(item) for item in NOT_RECORDED),
                         *_benefits_not_recorded(inputs)],
    }
    report["content_sha256"] = content_sha256(report)
    return report


def canonical_json(report: Mapping[str, Any]) -> bytes:
    """Keys sorted, no whitespace; `content_sha256` itself left out."""
    return orjson.dumps({k: v for k, v in report.items() if k != "content_sha256"},
                        option=orjson.OPT_SORT_KEYS)


def content_sha256(report: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(report)).hexdigest()
