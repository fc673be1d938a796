"""Response bodies of the pension transfer routes (api/routers/transfers.py, 跨统筹区转移接续).
The commands are case items (transfer_in, transfer_in_posting, transfer_out) opened through
POST /v1/cases; these are the reads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TransferItem(BaseModel):
    transfer_id: str = Field(description="The transfer aggregate's id (its events in the trace).")
    transfer_no: str = Field(description="The acceptance letter's number (联系函编号): ours "
                                         "for a transfer in, the new region's for one out.")
    direction: Literal["in", "out"] = Field(description="in: 转入 (from another region); "
                                                        "out: 转出 (to another region).")
    person_id: str
    other_region_code: str = Field(description="The other pooling region's 6-digit code.")
    other_region_name: str = Field(description="The other region's agency, as named.")
    status: Literal["accepted", "posted", "remitted", "cancelled"] = Field(
        description="accepted: transfer in, our letter sent, waiting for the old region's "
                    "information table and funds (已受理待到账); posted: transfer in, funds "
                    "posted (已记账); remitted: transfer out, funds remitted (已转出); "
                    "cancelled: transfer in ended without funds (refusal or withdrawal, "
                    "转入已终止).")
    opened_on: str = Field(description="Transfer in: the day accepted (受理); transfer out: "
                                       "the day the new region's letter arrived (来函).")
    due_on: str | None = Field(description="Transfer in: the day the old region's funds are "
                                           "due by (15 working days after acceptance); null "
                                           "for a transfer out.")
    completed_on: str | None = Field(description="The day posted or cancelled (in) or "
                                                 "remitted (out); "
                                                 "null while waiting.")
    overdue: bool = Field(description="A transfer in still waiting after its due day, judged "
                                      "on today at the bureau (China Standard Time).")
    contribution_months: int | None = Field(description="Months moved; null while waiting.")
    account_fen: int | None = Field(description="Personal account part (个人账户储存额).")
    pooled_fen: int | None = Field(description="Pooled-fund part (统筹基金): 12% of the "
                                               "monthly bases from 1998-01 on.")
    total_fen: int | None = Field(description="account_fen + pooled_fen.")
    months: list[tuple[str, str, int]] | None = Field(
        description="The months moved as [from_period, to_period, base_fen] runs of "
                    "consecutive months at one base (the information table's rows).")
    opened_position: int = Field(description="Log position of the first event.")
    completed_position: int | None = Field(description="Log position of the posting or "
                                                       "remittance.")


class TransferQueueItem(TransferItem):
    id_number: str = Field(description="The person's ID number (masked for roles that do not "
                                       "see personal data in clear).")
    name: str = Field(description="The person's name (masked likewise).")


class TransferQueue(BaseModel):
    today: str = Field(description="The day `overdue` is judged on (China Standard Time).")
    items: list[TransferQueueItem] = Field(description="Newest first.")
    limit: int
    position: int = Field(description="Log position the read models had reached.")


class PersonTransfers(BaseModel):
    person_id: str
    today: str = Field(description="The day `overdue` is judged on (China Standard Time).")
    items: list[TransferItem] = Field(description="Newest first.")
    position: int = Field(description="Log position the read models had reached.")
