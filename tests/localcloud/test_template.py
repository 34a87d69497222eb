"""Intrinsic functions, conditions and ordering, without any AWS."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.template import PseudoParameters, Template, TemplateError


class FakeRefs:
    def ref(self, logical_id: str) -> Any:
        return f"ref-of-{logical_id}"

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return f"{logical_id}.{attribute}"


BODY = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "dev"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a, b"},
        "Bootstrap": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/version"},
    },
    "Mappings": {"Sizes": {"dev": {"memory": 256}}},
    "Conditions": {
        "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
        "IsProd": {"Fn::Not": [{"Condition": "IsDev"}]},
        "DevAndAlways": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["x", "x"]}]},
        "ProdOrNever": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": ["x", "y"]}]},
    },
    "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "Function": {
            "Type": "AWS::Lambda::Function",
            "DependsOn": "Role",
            "Properties": {"Env": {"Fn::GetAtt": ["Table", "Arn"]}, "Name": {"Fn::Sub": "${Queue.Arn}"}},
        },
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"Table": {"Ref": "Table"}}},
        "ProdOnly": {"Type": "AWS::SNS::Topic", "Condition": "IsProd", "Properties": {}},
    },
}


@pytest.fixture
def template() -> Template:
    return Template(BODY, PseudoParameters(stack_name="Stack", region="ap-southeast-3"))


def resolve(template: Template, value: Any) -> Any:
    return template.resolve(value, FakeRefs())


def test_pseudo_parameters_and_parameters(template):
    assert resolve(template, {"Ref": "AWS::Region"}) == "ap-southeast-3"
    assert resolve(template, {"Ref": "AWS::AccountId"}) == "123456789012"
    assert resolve(template, {"Ref": "AWS::Partition"}) == "aws"
    assert resolve(template, {"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert resolve(template, {"Ref": "AWS::StackName"}) == "Stack"
    assert resolve(template, {"Ref": "Stage"}) == "dev"
    assert resolve(template, {"Ref": "Zones"}) == ["a", "b"]
    assert resolve(template, {"Ref": "Bootstrap"}) == "/cdk-bootstrap/version"
    assert resolve(template, {"Ref": "Table"}) == "ref-of-Table"


def test_get_att_join_sub(template):
    assert resolve(template, {"Fn::GetAtt": ["Table", "Arn"]}) == "Table.Arn"
    assert resolve(template, {"Fn::GetAtt": "Table.StreamArn"}) == "Table.StreamArn"
    joined = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":x:", {"Fn::GetAtt": ["Table", "Arn"]}]]}
    assert resolve(template, joined) == "arn:aws:x:Table.Arn"
    sub = "${AWS::StackName}-${Table}-${Table.Arn}-${Stage}-${!Literal}"
    assert resolve(template, {"Fn::Sub": sub}) == "Stack-ref-of-Table-Table.Arn-dev-${Literal}"
    with_vars = {"Fn::Sub": ["${Name}/${AWS::Region}", {"Name": {"Ref": "Table"}}]}
    assert resolve(template, with_vars) == "ref-of-Table/ap-southeast-3"


def test_select_split_if_findinmap_and_friends(template):
    assert resolve(template, {"Fn::Select": ["1", {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert resolve(template, {"Fn::If": ["IsDev", "yes", "no"]}) == "yes"
    assert resolve(template, {"Fn::If": ["IsProd", "yes", "no"]}) == "no"
    assert resolve(template, {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "memory"]}) == 256
    assert resolve(template, {"Fn::GetAZs": ""}) == ["ap-southeast-3a", "ap-southeast-3b", "ap-southeast-3c"]
    assert resolve(template, {"Fn::Base64": "hi"}) == "aGk="
    assert resolve(template, {"Fn::ToJsonString": {"a": {"Ref": "Stage"}}}) == '{"a":"dev"}'


def test_no_value_removes_properties_and_items(template):
    value = {
        "Keep": 1,
        "Drop": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Fn::If": ["IsProd", "b", {"Ref": "AWS::NoValue"}]}],
    }
    assert resolve(template, value) == {"Keep": 1, "List": ["a"]}


def test_conditions(template):
    assert template.condition("DevAndAlways") is True
    assert template.condition("ProdOrNever") is False
    assert "ProdOnly" not in template.resources


def test_creation_order_follows_references_and_depends_on(template):
    order = template.creation_order()
    assert order.index("Table") < order.index("Queue") < order.index("Function")
    assert order.index("Role") < order.index("Function")


def test_unsupported_or_unknown_fails_loudly(template):
    with pytest.raises(TemplateError):
        resolve(template, {"Fn::ImportValue": "Shared"})
    with pytest.raises(TemplateError):
        resolve(template, {"Ref": "Nope"})
    with pytest.raises(TemplateError):
        resolve(template, {"Fn::GetAtt": ["Nope", "Arn"]})
    with pytest.raises(TemplateError):
        Template({"Parameters": {"Needed": {"Type": "String"}}})
