"""cdk-nag AwsSolutions checks (v3: a CDK policy-validation plugin) and justified acknowledgments."""

from __future__ import annotations

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


def resource_of(construct: IConstruct) -> IConstruct:
    """A construct's own CloudFormation resource: acknowledged there, a finding is excused for
    that resource only, not for what CDK adds under the construct (policies, permissions)."""
    resource = construct.node.default_child
    assert resource is not None, f"{construct.node.path} has no resource of its own"
    return resource
