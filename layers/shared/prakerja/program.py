"""Program rules as data (program.json): benefit schemes and registration limits.

Changing an amount or a deadline is a data change reviewed like code, not a code change.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field


class _Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Incentive(_Rules):
    amount: int = Field(gt=0)  # whole Rupiah
    tranches: int = Field(ge=0)


class Scheme(_Rules):
    name: str
    training_balance: int = Field(gt=0)
    job_search_incentive: Incentive
    survey_incentive: Incentive
    first_purchase_deadline_days: int = Field(gt=0)
    # The 2021-22 rule: recipients of other social assistance (BSU, BPUM) are not eligible.
    exclude_other_assistance: bool


class RegistrationRules(_Rules):
    kk_limit: int = Field(ge=1)  # recipients or live applicants per family card
    exclude_other_assistance: bool


class Survey(_Rules):
    survey_id: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    title: str


class CaseRules(_Rules):
    # Ops actions that wait for a second ops user's approval (four eyes) before they run;
    # the others run when they are asked for (prakerja.cases).
    second_person_required: frozenset[str]


class Program(_Rules):
    registration: RegistrationRules
    cases: CaseRules
    schemes: dict[str, Scheme]
    # In order: a scheme whose survey incentive has n tranches pays for the first n surveys.
    surveys: tuple[Survey, ...]


@cache
def load_program() -> Program:
    text = resources.files("prakerja").joinpath("program.json").read_text(encoding="utf-8")
    return Program.model_validate(json.loads(text))
