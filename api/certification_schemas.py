"""Request and response bodies of the certification routes (api/routers/certifications.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import IsoDate, Label


class CertificationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["data_match", "self_service"] = Field(
        description="认证方式: data_match (数据比对) or self_service (自助认证, face recognition).")
    source: Label | None = Field(None, description="Where it comes from: civil_affairs, "
                                 "public_security, hospital, transport (data_match); "
                                 "face_recognition (self_service, the default).")
    certified_on: IsoDate = Field(description="The day certified, YYYY-MM-DD: not in the "
                                              "future, not before the retirement.")


class CertificationView(BaseModel):
    person_id: str
    certification_id: str
    certified_on: str
    method: str
    source: str
    already_recorded: bool = Field(description="The person was certified that day already: "
                                               "nothing new was recorded.")


class OverdueItemView(BaseModel):
    person_id: str
    retirement_date: str
    last_certified_on: str | None = Field(description="None: never certified since the "
                                                      "retirement.")
    deadline: str = Field(description="The day the certification was due by.")
    suspended_from: str = Field(description="The first month not paid (YYYY-MM).")


class OverdueList(BaseModel):
    as_of: str
    total: int = Field(description="Overdue pensioners in all; `items` holds the first "
                                   "`limit` of them, by deadline.")
    items: list[OverdueItemView]
