"""Reading a synthesized CloudFormation template as plain data: resources by type and logical-id
prefix, the logical ids an intrinsic refers to, the IAM statements a function's role carries,
and string templates (Fn::Join) resolved with placeholders for their tokens."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

CfnTemplate = dict[str, Any]
Resource = dict[str, Any]

# The functions of the stack, by the construct id they are created with, and the handler each
# runs (a function is found by its handler: its logical id also carries the construct that owns
# it). A new function must be added here and given its permissions in test_iam.py before the
# tests pass: least privilege is decided per function, not inherited.
FUNCTION_HANDLERS = {
    "PublicApi": "public_api.handler.lambda_handler",
    "ApplicantApi": "applicant_api.handler.lambda_handler",
    "OpsApi": "ops_api.handler.lambda_handler",
    "VerifyIdentity": "registration_workflow.verify_identity.lambda_handler",
    "ScreenEligibility": "registration_workflow.screen_eligibility.lambda_handler",
    "PlanSelection": "selection_workflow.plan_selection.lambda_handler",
    "SnapshotShard": "selection_workflow.snapshot_shard.lambda_handler",
    "MergeDraw": "selection_workflow.merge_draw.lambda_handler",
    "ApplyShard": "selection_workflow.apply_shard.lambda_handler",
    "PublishResult": "selection_workflow.publish_result.lambda_handler",
    "Notifier": "notifier.handler.lambda_handler",
    "PartnerApi": "partner_api.handler.lambda_handler",
    "PlanCardSweep": "card_deadlines.plan_sweep.lambda_handler",
    "RevokeUnusedCards": "card_deadlines.sweep_shard.lambda_handler",
    "FinishCardSweep": "card_deadlines.finish_sweep.lambda_handler",
    "CollectDuePayouts": "payout_workflow.collect_due.lambda_handler",
    "SendTransfer": "payout_workflow.send_transfer.lambda_handler",
    "CheckTransfer": "payout_workflow.check_transfer.lambda_handler",
    "ReconcileSettlement": "reconciliation.reconcile_settlement.lambda_handler",
    "CountOverdueComplaints": "complaint_metrics.count_overdue.lambda_handler",
}
# The functions behind the API's routes (published, invoked through their alias).
API_FUNCTIONS = ("PublicApi", "ApplicantApi", "OpsApi", "PartnerApi")


def resources(template: CfnTemplate, resource_type: str) -> dict[str, Resource]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def one(template: CfnTemplate, resource_type: str, prefix: str) -> tuple[str, Resource]:
    """The single resource of ``resource_type`` whose logical id starts with ``prefix``."""
    found = [(lid, res) for lid, res in resources(template, resource_type).items() if lid.startswith(prefix)]
    assert len(found) == 1, f"expected one {resource_type} named {prefix}*, found {[lid for lid, _ in found]}"
    return found[0]


def logical_id(template: CfnTemplate, resource_type: str, prefix: str) -> str:
    return one(template, resource_type, prefix)[0]


def referenced_ids(value: Any) -> set[str]:
    """Logical ids named by Ref / Fn::GetAtt anywhere inside ``value`` (pseudo parameters excluded)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                if not inner.startswith("AWS::"):
                    found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                found.add(target)
            else:
                found |= referenced_ids(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= referenced_ids(inner)
    return found


# CDK's own deploy-time provider functions (custom resources), not the program's: dev's buckets
# empty themselves on `cdk destroy` (test_data.py).
CDK_PROVIDERS = ("CustomS3AutoDeleteObjectsCustomResourceProviderHandler",)


def program_functions(template: CfnTemplate) -> dict[str, Resource]:
    """Every Lambda function of the program, by logical id: CDK's providers left out."""
    return {
        lid: resource
        for lid, resource in resources(template, "AWS::Lambda::Function").items()
        if not lid.startswith(CDK_PROVIDERS)
    }


def functions(template: CfnTemplate) -> dict[str, tuple[str, Resource]]:
    """Every Lambda function by its construct name; fails on a function not in FUNCTION_HANDLERS."""
    names = {handler: name for name, handler in FUNCTION_HANDLERS.items()}
    by_name: dict[str, tuple[str, Resource]] = {}
    for lid, resource in program_functions(template).items():
        name = names.get(resource["Properties"]["Handler"])
        assert name is not None, f"function {lid} runs none of the handlers of {sorted(FUNCTION_HANDLERS)}"
        assert name not in by_name, f"two functions run {FUNCTION_HANDLERS[name]}"
        assert name in lid, f"function {lid} runs {name}'s handler under another name"
        by_name[name] = (lid, resource)
    return by_name


def invoked_functions(template: CfnTemplate, value: Any) -> set[str]:
    """The functions an ARN value invokes: an alias (or a version) stands for its function."""
    invoked = set()
    for target in referenced_ids(value):
        resource = template["Resources"][target]
        qualified = resource["Type"] in ("AWS::Lambda::Alias", "AWS::Lambda::Version")
        invoked |= referenced_ids(resource["Properties"]["FunctionName"]) if qualified else {target}
    return invoked


def function_id(template: CfnTemplate, name: str) -> str:
    """The logical id of the function created as ``name``."""
    return functions(template)[name][0]


# --- IAM


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[Any, ...]
    raw: dict[str, Any]

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Statement:
        return cls(
            effect=raw["Effect"],
            actions=tuple(as_list(raw.get("Action", []))),
            resources=tuple(as_list(raw.get("Resource", []))),
            raw=raw,
        )

    def allows(self, action: str) -> bool:
        """Whether this statement grants ``action`` (IAM wildcards in the statement honoured)."""
        return self.effect == "Allow" and any(
            fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions
        )

    def on(self, target_logical_id: str) -> bool:
        return target_logical_id in referenced_ids(list(self.resources))

    @property
    def any_resource(self) -> bool:
        return "*" in self.resources


@dataclass(frozen=True)
class Permissions:
    """The identity-based permissions of one role: its managed policy ARNs and its statements."""

    role_id: str
    managed_policy_arns: tuple[Any, ...]
    statements: tuple[Statement, ...]

    def allows(self, action: str, on: str | None = None) -> bool:
        return any(s.allows(action) and (on is None or s.on(on) or s.any_resource) for s in self.statements)

    def actions_on(self, target_logical_id: str) -> set[str]:
        return {a for s in self.statements if s.effect == "Allow" and s.on(target_logical_id) for a in s.actions}

    def actions(self) -> set[str]:
        return {a for s in self.statements if s.effect == "Allow" for a in s.actions}


def state_machine(template: CfnTemplate, prefix: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A state machine's logical id, properties and parsed definition (intrinsics as placeholders)."""
    machine_id, resource = one(template, "AWS::StepFunctions::StateMachine", prefix)
    definition: dict[str, Any] = json.loads(resolve_string(resource["Properties"]["DefinitionString"]))
    return machine_id, resource["Properties"], definition


def role_permissions(template: CfnTemplate, role_id: str) -> Permissions:
    role = template["Resources"][role_id]
    assert role["Type"] == "AWS::IAM::Role"
    statements: list[Statement] = []
    for inline in role["Properties"].get("Policies", []):
        statements += [Statement.parse(s) for s in inline["PolicyDocument"]["Statement"]]
    for policy_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in resources(template, policy_type).values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                statements += [Statement.parse(s) for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    managed = tuple(role["Properties"].get("ManagedPolicyArns", []))
    return Permissions(role_id=role_id, managed_policy_arns=managed, statements=tuple(statements))


def function_permissions(template: CfnTemplate, function: Resource) -> Permissions:
    role_ref = function["Properties"]["Role"]
    (role_id,) = referenced_ids(role_ref)
    return role_permissions(template, role_id)


# --- strings built with Fn::Join / Fn::Sub


def placeholder(intrinsic: Any) -> str:
    """A JSON-safe stand-in for a token, naming what it refers to: ``${Id1,Id2}``, ``${AWS::Region}``."""
    if isinstance(intrinsic, dict) and set(intrinsic) == {"Ref"}:
        return "${" + str(intrinsic["Ref"]) + "}"
    return "${" + ",".join(sorted(referenced_ids(intrinsic))) + "}"


def resolve_string(value: Any) -> str:
    """The text of a string property, with every intrinsic in an Fn::Join replaced by a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return str(delimiter).join(p if isinstance(p, str) else placeholder(p) for p in parts)
    return placeholder(value)


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in a nested JSON document."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)


def literal_strings(value: Any) -> Iterator[str]:
    """Every literal string in a property value, leaving out the logical ids Ref and Fn::GetAtt name."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            if key not in ("Ref", "Fn::GetAtt"):
                yield from literal_strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from literal_strings(inner)


def cdk_nag_suppressions(template: CfnTemplate) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id, {"id", "reason"}) of every acknowledgment written to resource metadata."""
    for lid, resource in template["Resources"].items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            yield lid, rule


# --- nested stacks


def inline_nested(parent: CfnTemplate, nested: dict[str, CfnTemplate]) -> CfnTemplate:
    """The parent with the resources of its nested stacks (``nested``: their templates by the logical
    id of the ``AWS::CloudFormation::Stack`` resource) added, as if the stage were one stack. A nested
    resource's id is prefixed with its stack's (``<stack id>/<id>``: ids are unique per template
    only); in it a parameter is replaced by the value the parent passes for it (``{"Ref":
    "ApiFunctions...Function"}``), and in the parent a nested stack's output (``Fn::GetAtt [Stack,
    Outputs.X]``) by the output's value there. Assertions written for one template hold as strongly."""
    merged: CfnTemplate = {**parent, "Resources": dict(parent["Resources"])}
    outputs: dict[tuple[str, str], Any] = {}
    for stack_id, template in nested.items():
        passed = parent["Resources"][stack_id]["Properties"].get("Parameters", {})
        renamed = {lid: f"{stack_id}/{lid}" for lid in template["Resources"]}

        def resolve(value: Any, passed: dict[str, Any] = passed, renamed: dict[str, str] = renamed) -> Any:
            return _substitute(
                value, lambda ref: passed.get(ref) or ({"Ref": renamed[ref]} if ref in renamed else None), renamed
            )

        merged["Resources"].update({renamed[lid]: resolve(r) for lid, r in template["Resources"].items()})
        for name, output in template.get("Outputs", {}).items():
            outputs[(stack_id, f"Outputs.{name}")] = resolve(output["Value"])
    merged["Resources"] = _substitute(merged["Resources"], lambda _: None, {}, outputs)
    return merged


def _substitute(
    value: Any,
    parameter: Callable[[str], Any],
    renamed: dict[str, str],
    outputs: dict[tuple[str, str], Any] | None = None,
) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            passed = parameter(value["Ref"])
            return value if passed is None else passed
        if set(value) == {"Fn::GetAtt"} and isinstance(value["Fn::GetAtt"], list):
            target, attribute = value["Fn::GetAtt"]
            if outputs and (target, attribute) in outputs:
                return outputs[(target, attribute)]
            if target in renamed:
                return {"Fn::GetAtt": [renamed[target], attribute]}
        return {k: _substitute(v, parameter, renamed, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, parameter, renamed, outputs) for v in value]
    return value
