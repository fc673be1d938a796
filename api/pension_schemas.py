"""Request and response bodies of the pension payment routes (api/routers/pensions.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import Page, Period


class PaymentRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Period = Field(description="The month to pay (发放期), YYYY-MM: the current month "
                                       "or an earlier one.")


class PaymentRunView(BaseModel):
    period: str
    paid: int = Field(description="Entitlements paid by this run.")
    already_paid: int = Field(description="Entitlements paid for the month before this run.")
    skipped_deceased: int = Field(description="Not paid: the month is after the month of a "
                                              "recorded death.")
    skipped_suspended: int = Field(description="Not paid: suspended (暂停) for want of a "
                                               "certification (待遇资格认证).")
    back_paid: int = Field(description="Suspended months paid back after a certification "
                                       "resumed payment (not counted in `paid`).")
    back_pay_fen: int = Field(description="What the back pay came to (not in `amount_fen`).")
    amount_fen: int = Field(description="What this run paid: basic + transitional + account.")
    basic_fen: int = Field(description="基础养老金 (pooled fund).")
    transitional_fen: int = Field(description="过渡性养老金 (pooled fund).")
    account_fen: int = Field(description="个人账户养老金, from the accounts and the pool.")
    account_from_personal_fen: int = Field(description="Drawn from the personal accounts.")
    account_from_pool_fen: int = Field(description="Paid by the pooled fund: the accounts are "
                                                   "used up (国发〔2005〕38号).")
    account_exhausted: int = Field(description="Payments whose account part the pooled fund "
                                               "bore, wholly or partly.")
    adjustment_fen: int = Field(0, description="The yearly adjustments (养老金调整) in effect "
                                               "for the month, in `amount_fen` (pooled fund).")
    inputs_position: int = Field(description="Log position the balances and deaths were read "
                                             "at (recorded in every payment).")
    position: int


class PensionPaymentItem(BaseModel):
    period: str = Field(description="The month paid for.")
    kind: str = Field(description="The benefit: basic_pension (基本养老金).")
    total_fen: int
    basic_fen: int
    transitional_fen: int
    account_fen: int
    account_from_personal_fen: int
    account_from_pool_fen: int
    day: str = Field(description="Ledger day (China Standard Time) it was paid on.")
    position: int = Field(description="Log position of the payment event.")


class PensionPaymentsPage(Page):
    person_id: str
    total_fen: int = Field(description="Every payment of the person on record, all pages.")
    months: int = Field(description="Months paid, all pages.")
    items: list[PensionPaymentItem]
