"""The runtime on the project's own synthesized template (skipped until cdk.out has it)."""

from __future__ import annotations

import json

import pytest
import requests

from localcloud import LocalCloud
from localcloud.__main__ import demo_population
from localcloud.provision import EMULATED_TYPES

synth = pytest.importorskip("synth")
TEMPLATE = synth.template_path("dev")
pytestmark = pytest.mark.skipif(not TEMPLATE.exists(), reason="no synthesized dev template in cdk.out")


@pytest.fixture(scope="module")
def real_cloud(tmp_path_factory):
    with LocalCloud(TEMPLATE, api_port=0, state_dir=tmp_path_factory.mktemp("real")) as cloud:
        yield cloud


def test_every_route_of_the_template_is_served(real_cloud):
    template = json.loads(TEMPLATE.read_text())
    methods = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"]
    assert len(real_cloud.api.routes()) == len(methods)
    for route in real_cloud.api.routes():
        assert route.function_arn is None or real_cloud.resources.by_arn(route.function_arn) is not None


def test_the_nested_alarms_stack_is_skipped_and_holds_nothing_the_runtime_creates(real_cloud):
    """The one local difference of the nested stack: its template is not provisioned. Its resources
    (the alarms) are of types the runtime does not emulate anyway, and nothing here refers to them
    but the dashboard, which is not emulated either."""
    nested = synth.nested_template_paths(TEMPLATE)
    assert nested, "no nested stack in the template: the alarms are expected in one"
    for stack_id, path in nested.items():
        types = {r["Type"] for r in json.loads(path.read_text())["Resources"].values()}
        assert not types & EMULATED_TYPES, f"{path.name} holds what the runtime would create: {types & EMULATED_TYPES}"
        assert not real_cloud.resources[stack_id].provisioned
    assert real_cloud.resources.skipped["AWS::CloudFormation::Stack"] == len(nested)


def test_gateway_answers_follow_the_template(real_cloud):
    unknown = requests.get(f"{real_cloud.api_url}/v1/no-such-route", timeout=10)
    expected = real_cloud.api.responses.get("MISSING_AUTHENTICATION_TOKEN")
    assert unknown.status_code == (expected.status if expected and expected.status else 403)
    protected = next(r for r in real_cloud.api.routes() if r.authorization == "COGNITO_USER_POOLS")
    path = protected.resource_path.replace("{", "").replace("}", "")
    denied = requests.request(protected.method, f"{real_cloud.api_url}{path}", timeout=10)
    assert denied.status_code == 401
    token = requests.post(f"{real_cloud.api_url}/_local/tokens", json={"email": "a@example.com"}, timeout=10)
    allowed = requests.request(
        protected.method, f"{real_cloud.api_url}{path}", headers={"Authorization": token.json()["token"]}, timeout=10
    )
    assert allowed.status_code != 401


def test_registration_runs_the_workflow_to_a_decision(real_cloud):
    if requests.get(f"{real_cloud.api_url}/v1/health", timeout=10).status_code != 200:
        pytest.skip("the public API handler is not there yet")
    resident = demo_population()[0]
    real_cloud.registry.add([resident])
    token = requests.post(f"{real_cloud.api_url}/_local/tokens", json={"email": "budi@example.com"}, timeout=10).json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "nik": resident.nik,
        "kk_number": resident.kk_number,
        "full_name": resident.full_name,
        "date_of_birth": resident.date_of_birth.isoformat(),
        "gender": resident.gender,
        "phone": "081234567890",
        "email": "budi@example.com",
        "province_code": "32",
        "regency_code": "3273",
        "education_level": "SMA",
        "employment_status": "UNEMPLOYED",
    }
    created = requests.post(f"{real_cloud.api_url}/v1/applicants", json=body, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    real_cloud.wait_for_executions(timeout=60)
    me = requests.get(f"{real_cloud.api_url}/v1/applicants/me", headers=headers, timeout=30)
    assert me.status_code == 200, me.text
    assert me.json()["status"] in ("VERIFIED", "REJECTED")


def test_workers_run_the_programs_functions_and_not_cdks_providers(real_cloud):
    """Dev's buckets empty themselves on `cdk destroy` through CDK's Node.js provider function: a
    deploy-time helper behind a custom resource, which the local cloud does not emulate and so
    never invokes. Every Python function of the template gets its workers; the provider none."""
    template = json.loads(TEMPLATE.read_text())
    functions = {lid: r for lid, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    python = {lid for lid, r in functions.items() if r["Properties"]["Runtime"].startswith("python")}
    assert python and python != set(functions)  # the provider is there, in Node.js
    assert set(real_cloud._workers.pools) == python
