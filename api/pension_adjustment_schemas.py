"""Request and response bodies of the pension adjustment route
(api/routers/pension_adjustments.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AdjustmentRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=1900, le=2100, description="The year to adjust (调整年度): every "
                                                    "entitlement retired by 31 December of the "
                                                    "year before, from January of the year.")


class AdjustmentRunView(BaseModel):
    year: int
    province_code: str = Field(description="The province whose rule was applied (the first "
                                           "two digits of the region code).")
    effective_period: str = Field(description="The month the increases apply from (YYYY-01).")
    rule_source: str
    adjusted: int = Field(description="Entitlements adjusted by this run.")
    already_adjusted: int = Field(description="Adjusted for the year before this run.")
    skipped_deceased: int = Field(description="Not adjusted: died before the effective month.")
    monthly_increase_fen: int = Field(description="This run's monthly increases, summed.")
    average_increase_fen: int = Field(description="Per person adjusted, rounded down.")
    arrears_months: int = Field(description="Months paid before the run from the effective "
                                            "month on, paid the increase now (补发).")
    arrears_fen: int = Field(description="The arrears paid, from the pooled fund.")
    inputs_position: int = Field(description="Log position the inputs were read at.")
    position: int
