"""Program rules as data (program.json): benefit schemes, registration limits, complaints' service levels.

Changing an amount or a deadline is a data change reviewed like code, not a code change.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, model_validator

from prakerja.grievances.models import ComplaintCategory


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


class GrievanceRules(_Rules):
    """Complaints: a service level per category (hours from filing, or from reopening, to an
    answer: ``due_by``), and how long after its resolution an applicant's reply reopens a ticket."""

    service_levels_hours: dict[ComplaintCategory, int]
    reopen_days: int = Field(ge=1)
    # The ComplaintsOverdue alarm: this many tickets awaiting ops past their service level.
    overdue_alarm_at: int = Field(ge=1)

    @model_validator(mode="after")
    def _every_category(self) -> GrievanceRules:
        missing = set(ComplaintCategory) - set(self.service_levels_hours)
        if missing or any(hours <= 0 for hours in self.service_levels_hours.values()):
            raise ValueError(f"a positive service level for every category is needed: {sorted(missing)}")
        return self

    def service_level(self, category: ComplaintCategory) -> timedelta:
        return timedelta(hours=self.service_levels_hours[category])


class Program(_Rules):
    registration: RegistrationRules
    cases: CaseRules
    grievances: GrievanceRules
    schemes: dict[str, Scheme]
    # In order: a scheme whose survey incentive has n tranches pays for the first n surveys.
    surveys: tuple[Survey, ...]


@cache
def load_program() -> Program:
    text = resources.files("prakerja").joinpath("program.json").read_text(encoding="utf-8")
    return Program.model_validate(json.loads(text))
