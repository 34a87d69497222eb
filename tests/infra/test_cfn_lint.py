"""cfn-lint on the synthesized dev templates (the stack's and its nested stack's), in the region the
program runs in (Jakarta)."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import ManualArgs, lint_file

REGION = "ap-southeast-3"
IGNORED = [
    # W3005 "dependency already enforced by a Ref/GetAtt": CDK writes an explicit DependsOn next to
    # the reference (a function on its role, the WAF association on the stage it names). Redundant,
    # harmless, and not ours to change.
    "W3005",
]


def cfn_lint_errors(template_path: Path) -> list[str]:
    """cfn-lint's errors (E rules) for a template in Jakarta; warnings are printed, not failed."""
    matches = lint_file(template_path, config=ManualArgs(regions=[REGION], ignore_checks=IGNORED))
    for match in matches:
        print(f"cfn-lint {match.rule.id}: {match.message} at {'/'.join(map(str, match.path))}")
    return [f"{m.rule.id}: {m.message}" for m in matches if m.rule.id.startswith("E")]


def stack_template_paths(parent: Path) -> list[Path]:
    """A stage's templates: its stack's and each nested stack's (the alarms)."""
    from synth import nested_template_paths

    return [parent, *nested_template_paths(parent).values()]


def test_dev_template_has_no_cfn_lint_errors(dev_template_path: Path) -> None:
    paths = stack_template_paths(dev_template_path)
    assert len(paths) >= 2, "the alarms' nested template is missing"
    errors = [f"{path.name}: {error}" for path in paths for error in cfn_lint_errors(path)]
    assert not errors, "\n".join(errors)
