"""The payout workflow's execution data: ids, counts and codes, never personal data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from prakerja.payouts.models import PAYOUT_ID


class RunInput(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a scheduled run's input is EventBridge's event

    run_id: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,80}$")


class Collected(BaseModel):
    run_id: str
    count: int
    items_key: str = Field(description="The run's list of payouts in the payouts bucket")


class PayoutItem(BaseModel):
    """One payout of a run (an item of the Distributed Map)."""

    model_config = ConfigDict(extra="ignore")

    applicant_id: str = Field(min_length=1, max_length=64)
    payout_id: str = Field(pattern=PAYOUT_ID)
    callback_timeout_seconds: int = Field(ge=1)
    run_id: str = Field(default="", description="The run's execution name: the correlation id of its logs")


class SendInput(PayoutItem):
    task_token: str = Field(min_length=1)
