"""Fixed egress addresses for the functions that call partners who allowlist their callers (the
civil registry, the payment partners): a VPC whose private subnets leave through NAT gateways,
each with an Elastic IP that does not change. A stage option (StageConfig.fixed_egress): it costs
NAT hours and processed bytes, and only the calling functions are placed in it."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnOutput, Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from prakerja_infra.nag import acknowledge_resource
from prakerja_infra.stage import StageConfig, log_retention, removal_policy

# One NAT gateway (and address) per zone: a zone's outage does not cut the calls off.
ZONES = 2
VPC_ACCESS_POLICY = "service-role/AWSLambdaVPCAccessExecutionRole"


class Egress(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig, logs_key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=ZONES,
            nat_gateways=ZONES,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="Calls", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
            ],
            # Tables and buckets are reached through gateway endpoints: no NAT bytes for them.
            gateway_endpoints={
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            },
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=log_retention(stage),
            removal_policy=removal_policy(stage),
            encryption_key=logs_key,
        )
        self.vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
        self.security_group = ec2.SecurityGroup(
            self,
            "Calls",
            vpc=self.vpc,
            description="Partner calls out (HTTPS through NAT) and AWS APIs; nothing in",
            allow_all_outbound=True,
        )
        addresses = [
            subnet.node.find_child("EIP")
            for subnet in self.vpc.public_subnets
            if isinstance(subnet, ec2.PublicSubnet) and subnet.node.try_find_child("EIP") is not None
        ]
        CfnOutput(
            self,
            "EgressAddresses",
            value=Fn.join(",", [address.ref for address in addresses if isinstance(address, ec2.CfnEIP)]),
            description="The addresses partner calls come from: for the partners' allowlists (docs/deploy.md)",
        ).override_logical_id("EgressAddresses")

    def place(self, function: lambda_.Function) -> None:
        """Lambda's placement in the VPC: the function's network interfaces, in the calls' subnets."""
        cfn = function.node.default_child
        assert isinstance(cfn, lambda_.CfnFunction)
        cfn.vpc_config = lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
            security_group_ids=[self.security_group.security_group_id],
        )
        role = function.role
        assert isinstance(role, iam.Role)
        policy = iam.ManagedPolicy.from_aws_managed_policy_name(VPC_ACCESS_POLICY)
        role.add_managed_policy(policy)
        acknowledge_resource(
            role,
            "AwsSolutions-IAM4",
            policy.managed_policy_arn,
            "Lambda's network interfaces in the VPC (ec2:CreateNetworkInterface and its kin, which have no "
            "resource to name at creation): the AWS managed policy for exactly that.",
            kind="Policy",
        )
        # The interface's dependencies: the function waits for its subnets' routes (the NAT).
        function.node.add_dependency(self.vpc)


# The functions that call partners out (e-KYC, account inquiries, transfers and their status).
PARTNER_CALLERS = ("VerifyIdentity", "ApplicantApi", "SendTransfer", "CheckTransfer")


def place_partner_callers(
    scope: Construct, stage: StageConfig, logs_key: kms.IKey, functions: Mapping[str, lambda_.Function]
) -> None:
    """With StageConfig.fixed_egress, the partner callers leave through the NAT gateways' Elastic IPs."""
    if not stage.fixed_egress:
        return
    egress = Egress(scope, "Egress", stage=stage, logs_key=logs_key)
    for name in PARTNER_CALLERS:
        egress.place(functions[name])
