from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prakerja.errors import ValidationFailed
from prakerja.registration.assessment import Assessment, AssessmentResult, load_assessment
from prakerja.registration.models import AnswerItem, AssessmentSubmission


@pytest.fixture
def assessment() -> Assessment:
    return load_assessment()


def answers(pairs: list[tuple[str, str]]) -> list[AnswerItem]:
    return [AnswerItem(question_id=q, option_id=o) for q, o in pairs]


def a_wrong_option(assessment: Assessment, question_id: str) -> str:
    question = assessment.question(question_id)
    assert question is not None
    return next(o.option_id for o in question.options if o.option_id != question.correct_option_id)


def with_correct(assessment: Assessment, how_many: int) -> list[AnswerItem]:
    """Every question answered, the first ``how_many`` correctly."""
    return answers(
        [
            (
                q.question_id,
                q.correct_option_id if i < how_many else a_wrong_option(assessment, q.question_id),
            )
            for i, q in enumerate(assessment.questions)
        ]
    )


def test_the_test_ships_inside_the_package() -> None:
    assert resources.files("prakerja.registration").joinpath("assessment.json").is_file()


def test_the_basic_test_has_ten_questions_of_three_or_four_options(assessment: Assessment) -> None:
    assert assessment.assessment_id == "basic-v1"
    assert assessment.pass_score == 60
    assert len(assessment.questions) == 10
    assert all(3 <= len(q.options) <= 4 for q in assessment.questions)
    assert all(len({o.text for o in q.options}) == len(q.options) for q in assessment.questions)


def test_it_is_loaded_once(assessment: Assessment) -> None:
    assert load_assessment() is assessment


def test_the_public_view_has_the_api_shape(assessment: Assessment) -> None:
    view = assessment.public_view()

    assert set(view) == {"assessment_id", "pass_score", "questions"}
    assert (view["assessment_id"], view["pass_score"]) == ("basic-v1", 60)
    first = view["questions"][0]
    assert set(first) == {"question_id", "text", "options"}
    assert all(set(option) == {"option_id", "text"} for option in first["options"])
    assert [q["question_id"] for q in view["questions"]] == [q.question_id for q in assessment.questions]


def test_the_public_view_does_not_give_away_the_answers(assessment: Assessment) -> None:
    text = json.dumps(assessment.public_view())

    assert "correct" not in text
    json.loads(text)  # plain JSON, ready for the response body


def test_the_answer_key_scores_100(assessment: Assessment) -> None:
    submission = AssessmentSubmission.model_validate({"answers": assessment.answer_key()})

    assert assessment.score(submission.answers) == AssessmentResult(score=100, passed=True)


@pytest.mark.parametrize(
    ("correct", "score", "passed"),
    [(0, 0, False), (5, 50, False), (6, 60, True), (7, 70, True), (10, 100, True)],
)
def test_the_score_is_the_share_of_correct_answers(
    assessment: Assessment, correct: int, score: int, passed: bool
) -> None:
    assert assessment.score(with_correct(assessment, correct)) == AssessmentResult(score=score, passed=passed)


def test_unanswered_questions_count_as_wrong(assessment: Assessment) -> None:
    six_right = answers([(q.question_id, q.correct_option_id) for q in assessment.questions[:6]])

    assert assessment.score(six_right) == AssessmentResult(score=60, passed=True)
    assert assessment.score(six_right[:5]) == AssessmentResult(score=50, passed=False)
    assert assessment.score([]) == AssessmentResult(score=0, passed=False)


def test_the_order_of_answers_does_not_matter(assessment: Assessment) -> None:
    submitted = with_correct(assessment, 7)

    assert assessment.score(reversed(submitted)) == assessment.score(submitted)


def invalid(assessment: Assessment, submitted: list[AnswerItem]) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        assessment.score(submitted)
    assert caught.value.code == "ASSESSMENT_ANSWER_INVALID"
    assert caught.value.status == 422
    return caught.value


def test_an_unknown_question_is_invalid(assessment: Assessment) -> None:
    error = invalid(assessment, answers([("q01", "b"), ("q99", "a")]))

    assert [e.field for e in error.errors] == ["answers.1.question_id"]


def test_an_option_of_no_such_question_is_invalid(assessment: Assessment) -> None:
    error = invalid(assessment, answers([("q01", "z")]))

    assert [e.field for e in error.errors] == ["answers.0.option_id"]


def test_an_option_that_exists_only_in_another_question_is_invalid(assessment: Assessment) -> None:
    four_options = next(q for q in assessment.questions if len(q.options) == 4)
    three_options = next(q for q in assessment.questions if len(q.options) == 3)
    only_elsewhere = four_options.options[3].option_id

    invalid(assessment, answers([(three_options.question_id, only_elsewhere)]))


def test_a_question_answered_twice_is_invalid_even_with_the_same_option(assessment: Assessment) -> None:
    error = invalid(assessment, answers([("q01", "b"), ("q02", "a"), ("q01", "b")]))

    assert [e.field for e in error.errors] == ["answers.0.question_id", "answers.2.question_id"]


def test_the_question_ids_are_case_sensitive(assessment: Assessment) -> None:
    invalid(assessment, answers([("Q01", "b")]))


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=10, max_size=10))
def test_any_complete_submission_scores_a_multiple_of_ten(options: list[str]) -> None:
    assessment = load_assessment()
    submitted = [
        AnswerItem(question_id=q.question_id, option_id=o if q.has_option(o) else q.options[0].option_id)
        for q, o in zip(assessment.questions, options, strict=True)
    ]

    result = assessment.score(submitted)

    assert result.score % 10 == 0
    assert 0 <= result.score <= 100
    assert result.passed == (result.score >= 60)


def test_a_broken_data_file_is_refused() -> None:
    broken = {
        "assessment_id": "x",
        "pass_score": 60,
        "questions": [
            {
                "question_id": "q",
                "text": "?",
                "options": [{"option_id": "a", "text": "A"}, {"option_id": "b", "text": "B"}],
                "correct_option_id": "c",
            }
        ],
    }

    with pytest.raises(ValueError, match="correct option"):
        Assessment.model_validate(broken)
