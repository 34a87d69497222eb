"""What the code hands to X-Ray and to CloudWatch metrics never names personal data.

Traces are not emulated locally, so the end-to-end scan (tests/e2e_privacy) cannot see them:
this test reads the source instead. Every call that puts a value into a trace annotation or
metadata, a metric dimension or metadata, or the logger's persistent keys or correlation id is checked: no
argument may be made of a personal-data field (nik, kk, name, phone, e-mail, account number,
birth date...). And every traced handler or method must pass ``capture_response=False``: by
default Powertools puts a handler's whole return value into the trace, which for the API is the
response body (a profile's full name, a buyer's masked name, an account number's tail).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = (REPO / "functions", REPO / "layers" / "shared" / "prakerja")

# Calls whose arguments end up in a trace, a metric or every later log line.
SINKS = {
    "put_annotation",
    "put_metadata",
    "add_dimension",
    "add_dimensions",
    "add_metadata",
    "set_default_dimensions",
    "append_keys",
    "set_correlation_id",
}
# Of these, the keyword names themselves are the keys written (append_keys(nik=...)).
KEYWORDS_ARE_KEYS = {"set_default_dimensions", "add_dimensions", "append_keys"}
TRACING_DECORATORS = {"capture_lambda_handler", "capture_method"}

# A word of an identifier or key that always means personal data...
DENIED_WORDS = {"nik", "kk", "phone", "email", "birth", "msisdn"}
# ...and whole identifiers that do ("name" alone: in this code base, whose name is it?).
DENIED_NAMES = {
    "name",
    "full_name",
    "buyer_name",
    "account_number",
    "personal",
    "personal_data",
    "dob",
    "address",
}


def personal(identifier: str) -> bool:
    lowered = identifier.lower()
    words = [w for w in re.split(r"[^a-z0-9]+", lowered) if w]
    return lowered in DENIED_NAMES or any(w in DENIED_WORDS for w in words)


def names_in(node: ast.AST) -> set[str]:
    """Variables, attributes and string keys an expression is made of."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
        elif isinstance(child, ast.Constant) and isinstance(child.value, str):
            found.add(child.value)
        elif isinstance(child, ast.keyword) and child.arg:
            found.add(child.arg)
    return found


@dataclass(frozen=True)
class Problem:
    where: str
    what: str


def check_source(text: str, where: str) -> tuple[list[Problem], int, int]:
    """The problems in one module, and how many sink calls and tracing decorators it has."""
    problems: list[Problem] = []
    sinks = decorators = 0
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SINKS:
            sinks += 1
            parts: list[ast.AST] = list(node.args)
            for keyword in node.keywords:
                parts.append(keyword.value)
                if node.func.attr in KEYWORDS_ARE_KEYS and keyword.arg:
                    parts.append(ast.Constant(keyword.arg))
            denied = sorted({n for part in parts for n in names_in(part) if personal(n)})
            if denied:
                problems.append(Problem(f"{where}:{node.lineno}", f"{node.func.attr}() given {denied}"))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if not (isinstance(target, ast.Attribute) and target.attr in TRACING_DECORATORS):
                    continue
                decorators += 1
                keywords = {k.arg: k.value for k in decorator.keywords} if isinstance(decorator, ast.Call) else {}
                response = keywords.get("capture_response")
                if not (isinstance(response, ast.Constant) and response.value is False):
                    problems.append(
                        Problem(f"{where}:{decorator.lineno}", f"@{target.attr} without capture_response=False")
                    )
    return problems, sinks, decorators


def modules() -> list[Path]:
    return sorted(p for root in SOURCES for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def test_nothing_personal_goes_to_traces_metrics_or_log_keys() -> None:
    problems: list[Problem] = []
    sinks = decorators = 0
    for path in modules():
        found, s, d = check_source(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
        problems += found
        sinks += s
        decorators += d
    assert not problems, "\n".join(f"{p.where}: {p.what}" for p in problems)
    # The check looked at real code: the handlers' dimensions and log keys, and every handler.
    assert sinks >= 10
    assert decorators >= len(list((REPO / "functions").rglob("handler.py")))


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        ("tracer.put_annotation(key='nik', value=x)", "put_annotation() given ['nik']"),
        ("tracer.put_metadata(key='applicant', value=profile.full_name)", "['full_name']"),
        ("metrics.add_dimension(name='phone_prefix', value=p[:4])", "['phone_prefix']"),
        ("metrics.add_metadata(key='who', value=request.kk_number)", "['kk_number']"),
        ("metrics.add_dimension(name='provider', value=body.account_number[-4:])", "['account_number']"),
        ("logger.append_keys(email=caller.mail)", "['email']"),
        ("metrics.set_default_dimensions(birth_year=str(y))", "['birth_year']"),
        ("metrics.add_dimensions(kk_prefix=k[:4])", "['kk_prefix']"),
        ("logger.set_correlation_id(request.nik)", "set_correlation_id() given ['nik']"),
        ("tracer.put_annotation('buyer', name)", "['name']"),
        ("@tracer.capture_lambda_handler\ndef handler(e, c): ...", "@capture_lambda_handler without"),
        ("@tracer.capture_method(capture_response=True)\ndef f(): ...", "@capture_method without"),
    ],
)
def test_the_check_reports_personal_data_and_captured_responses(source: str, reported: str) -> None:
    problems, _, _ = check_source(source, "example.py")
    assert len(problems) == 1 and reported in problems[0].what, problems


@pytest.mark.parametrize(
    "source",
    [
        "metrics.add_dimension(name='verdict', value=verdict.value)",
        "logger.append_keys(applicant_id=step.applicant_id, wave_id=w, shard=3)",
        "logger.set_correlation_id(message.wave_id)",
        "tracer.put_annotation(key='provider', value=str(account.provider))",
        "@tracer.capture_lambda_handler(capture_response=False)\ndef handler(e, c): ...",
    ],
)
def test_ids_codes_and_uncaptured_responses_pass(source: str) -> None:
    assert check_source(source, "example.py")[0] == []
