"""The basic motivation and ability test (tes kemampuan dasar), kept as data in
``assessment.json`` next to this module so that it ships inside the package."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from prakerja.errors import FieldError, ValidationFailed

ASSESSMENT_ANSWER_INVALID = "ASSESSMENT_ANSWER_INVALID"


class Answer(Protocol):
    """One answer as submitted; ``prakerja.registration.models.AnswerItem`` is one."""

    @property
    def question_id(self) -> str: ...

    @property
    def option_id(self) -> str: ...


@dataclass(frozen=True)
class AssessmentResult:
    score: int  # 0-100
    passed: bool


class AssessmentOption(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    option_id: str = Field(min_length=1)
    text: str = Field(min_length=1)


class AssessmentQuestion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    question_id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    options: tuple[AssessmentOption, ...] = Field(min_length=2)
    correct_option_id: str

    @model_validator(mode="after")
    def _check_options(self) -> Self:
        ids = [option.option_id for option in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question {self.question_id}: duplicate option ids")
        if self.correct_option_id not in ids:
            raise ValueError(f"question {self.question_id}: correct option is not one of its options")
        return self

    def has_option(self, option_id: str) -> bool:
        return any(option.option_id == option_id for option in self.options)


class Assessment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    assessment_id: str = Field(min_length=1)
    pass_score: int = Field(ge=0, le=100)
    questions: tuple[AssessmentQuestion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_questions(self) -> Self:
        ids = [question.question_id for question in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate question ids")
        return self

    def question(self, question_id: str) -> AssessmentQuestion | None:
        return next((q for q in self.questions if q.question_id == question_id), None)

    def public_view(self) -> dict[str, Any]:
        """Body of ``GET /v1/assessment``: the test without its answers."""
        return {
            "assessment_id": self.assessment_id,
            "pass_score": self.pass_score,
            "questions": [
                {
                    "question_id": question.question_id,
                    "text": question.text,
                    "options": [{"option_id": option.option_id, "text": option.text} for option in question.options],
                }
                for question in self.questions
            ],
        }

    def score(self, answers: Iterable[Answer]) -> AssessmentResult:
        """Score 0-100, rounded down; unanswered questions count as wrong. An unknown question
        or option, or a question answered twice, is ASSESSMENT_ANSWER_INVALID (422)."""
        answers = list(answers)
        errors: list[FieldError] = []
        seen = Counter(answer.question_id for answer in answers)
        correct = 0
        for index, answer in enumerate(answers):
            question = self.question(answer.question_id)
            if question is None:
                errors.append(_answer_error(index, "question_id", "Unknown question"))
            elif seen[answer.question_id] > 1:
                errors.append(_answer_error(index, "question_id", "Question answered more than once"))
            elif not question.has_option(answer.option_id):
                errors.append(_answer_error(index, "option_id", "Not an option of this question"))
            elif answer.option_id == question.correct_option_id:
                correct += 1
        if errors:
            raise ValidationFailed(ASSESSMENT_ANSWER_INVALID, errors[0].message, errors)
        score = correct * 100 // len(self.questions)
        return AssessmentResult(score=score, passed=score >= self.pass_score)

    def answer_key(self) -> list[dict[str, str]]:
        """Answers that pass (all correct); only for the local test route."""
        return [
            {"question_id": question.question_id, "option_id": question.correct_option_id}
            for question in self.questions
        ]


def _answer_error(index: int, attribute: str, message: str) -> FieldError:
    return FieldError(field=f"answers.{index}.{attribute}", message=message, code=ASSESSMENT_ANSWER_INVALID)


@cache
def load_assessment() -> Assessment:
    """The current test, read once per process (a Lambda container keeps it warm)."""
    text = resources.files("prakerja.registration").joinpath("assessment.json").read_text(encoding="utf-8")
    return Assessment.model_validate_json(text)
