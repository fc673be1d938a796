"""Chinese names the console shows for the ledger's codes: accounts of the chart, event types,
statuses and kinds. A code without a name here is shown as it is (nothing is hidden)."""

from __future__ import annotations

from domain.journal import BANK_PAYOUT, CLEARING_TAX, FINANCE_SPECIAL, SUSPENSE
from domain.policy import PolicyTables

ACCOUNT_ZH = {
    CLEARING_TAX: "税务征收过渡户",
    SUSPENSE: "暂收款（挂账）",
    FINANCE_SPECIAL: "财政专户",
    BANK_PAYOUT: "银行发放户",
}

EVENT_ZH = {
    "Person.Registered": "参保登记",
    "Person.EmploymentStarted": "就业登记（参保）",
    "Person.EmploymentEnded": "终止就业（停保）",
    "Person.BaseDeclared": "缴费基数申报",
    "Person.NameChanged": "姓名变更",
    "Person.Retired": "退休",
    "Person.DeathRecorded": "死亡登记",
    "ContributionMonth.Posted": "缴费入账",
    "ContributionMonth.Reposted": "缴费重新入账",
    "ContributionMonth.Supplemented": "缴费补记（暂收分配）",
    "ContributionMonth.Reversed": "红冲",
    "InterestYear.Credited": "个人账户记息",
    "InterestYear.Recomputed": "利息重算",
    "BackPayment.Assessed": "补缴核定",
    "BackPayment.Collected": "补缴到账",
    "BackPayment.Cancelled": "补缴核定撤销",
    "SuspenseItem.Held": "暂收挂账",
    "SuspenseItem.Assigned": "暂收分配入账",
    "SuspenseItem.Refunded": "暂收退款",
    "SuspenseItem.Reopened": "暂收重新挂账",
    "Case.Opened": "受理",
    "Case.MaterialAttached": "上传材料",
    "Case.Signed": "签批",
    "Case.Completed": "办结",
    "Case.Rejected": "退回",
    "Case.Withdrawn": "撤回",
    "Case.Rated": "评价",
    "Entitlement.Awarded": "待遇核定",
    "Entitlement.FirstPaymentScheduled": "首次发放计划",
    "PensionPayment.Paid": "养老金发放",
    "SchemeLink.Linked": "城乡养老保险衔接",
    "PensionTransferIn.Accepted": "转入受理，发出联系函",
    "PensionTransferIn.Posted": "转入基金到账记账",
    "PensionTransferIn.Cancelled": "转入终止",
    "BenefitPayment.Paid": "待遇支付（支付明细导入）",
    "PensionTransferOut.Remitted": "转出基金划转",
    "Person.TransferInOpened": "转入在途（已受理）",
    "Person.TransferInClosed": "转入办结",
    "Person.PensionTransferredOut": "养老保险关系转出",
}

CASE_STATUS_ZH = {"open": "在办", "completed": "已办结", "rejected": "已退回",
                  "withdrawn": "已撤回"}
CASE_SCOPE_ZH = {"to_sign": "待我签批", "mine": "我受理的", "open": "全部在办"}
CASE_MODE_ZH = {"instant": "即时办结", "time_limited": "承诺时限"}
RISK_LEVEL_ZH = {1: "一级（高）", 2: "二级（中）", 3: "三级（低）"}
HISTORY_KIND_ZH = {"posted": "入账", "reversed": "红冲"}
ACCOUNT_KIND_ZH = {"contribution": "缴费记账", "reversal": "红冲", "interest": "利息",
                   "backpay": "补缴", "transfer": "转移",
                   "pension_payment": "个人账户养老金支付"}
SUSPENSE_STATUS_ZH = {"held": "挂账中", "assigned": "已分配入账", "refunded": "已退款"}
ALERT_STATUS_ZH = {"raised": "待处理", "acknowledged": "已认领", "closed": "已办结"}
RECONCILIATION_STATUS_ZH = {"ok": "相符", "difference": "有差异"}
SEX_ZH = {"M": "男", "F": "女"}
TRANSFER_DIRECTION_ZH = {"in": "转入", "out": "转出"}
TRANSFER_STATUS_ZH = {"accepted": "已受理待到账", "posted": "已记账", "remitted": "已转出",
                      "cancelled": "已终止"}


def account_name(account: str, policy: PolicyTables) -> str:
    """fund:110 → 企业职工基本养老保险统筹基金; personal:*:110 → 个人账户（…，合计）."""
    kind, _, rest = account.partition(":")
    if account in ACCOUNT_ZH:
        return ACCOUNT_ZH[account]
    if kind == "fund":
        return f"{insurance_name(rest, policy)}统筹基金"
    if kind == "personal":
        insurance = rest.rsplit(":", 1)[-1]
        scope = "合计" if rest.startswith("*:") else "个人"
        return f"个人账户（{insurance_name(insurance, policy)}，{scope}）"
    if kind == "region":
        return f"其他统筹地区 {rest}"  # domain/transfer.py region_account
    return account


def insurance_name(code: str, policy: PolicyTables) -> str:
    found = policy.insurances.get(code)
    return found.name_zh if found else code
