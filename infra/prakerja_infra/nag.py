"""cdk-nag AwsSolutions checks (v3: a CDK policy-validation plugin) and justified acknowledgments."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: cdk.App) -> None:
    """Every synth runs the AwsSolutions pack; a violation fails the synth."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True)
    )


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one finding for ``scope`` and everything under it, with the reason in code.

    ``rule_id`` may be granular, ``AwsSolutions-IAM5[Resource::*]``, which is preferred.
    """
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def acknowledge_resource(scope: IConstruct, rule: str, resource: Any, reason: str, *, kind: str = "Resource") -> None:
    """Accept ``rule`` (IAM5) for exactly one policy resource, named as the stack renders it.

    The finding names the resource as cdk-nag prints it, which depends on the environment: a
    region-agnostic synth prints ``arn:<AWS::Partition>:states:<AWS::Region>:...``, the CDK CLI
    (a concrete region, partition literals) ``arn:aws:states:ap-southeast-3:...``. Built from the
    same value the policy holds, the acknowledgment matches both and nothing wider. ``kind``:
    ``Policy`` for a managed policy's ARN (IAM4).
    """
    acknowledge(scope, f"{rule}[{kind}::{nag_finding(cdk.Stack.of(scope), resource)}]", reason)


def nag_finding(stack: cdk.Stack, value: Any) -> str:
    """``value`` (a string with tokens) as cdk-nag names it in a finding: resolved in ``stack``,
    then flattened as cdk-nag's ``flattenCfnReference`` does (Ref -> <Id>, GetAtt -> <Id.Attr>,
    Fn::Join joined, anything else JSON)."""
    return _flatten(stack.resolve(value))


def _flatten(node: Any) -> str:
    if node is None or isinstance(node, str):
        return (node or "").replace("${", "<").replace("}", ">")
    intrinsic = next(iter(node)) if isinstance(node, dict) and len(node) == 1 else None
    if intrinsic == "Fn::Join":
        delimiter, items = node[intrinsic]
        return str(delimiter).join(_flatten(item) for item in items)
    if intrinsic == "Fn::GetAtt":
        resource, attribute = node[intrinsic]
        return f"<{_flatten(resource)}.{_flatten(attribute)}>"
    if intrinsic == "Ref":
        return f"<{_flatten(node[intrinsic])}>"
    if intrinsic in ("Fn::Sub", "Fn::ImportValue"):
        return _flatten(node[intrinsic])
    return json.dumps(node, separators=(",", ":"))


def resource_of(construct: IConstruct) -> IConstruct:
    """A construct's own CloudFormation resource: acknowledged there, a finding is excused for
    that resource only, not for what CDK adds under the construct (policies, permissions)."""
    resource = construct.node.default_child
    assert resource is not None, f"{construct.node.path} has no resource of its own"
    return resource
