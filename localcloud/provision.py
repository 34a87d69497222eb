"""Creates a template's data and workflow resources in moto, from the template alone.

`provision(template, clients_factory)` works against the embedded moto server and under
`moto.mock_aws()` alike, so data-layer tests can build their tables from the real template:

    with mock_aws():
        resources = provision(template_dict, lambda service: boto3.client(service, region_name=REGION))
        table_name = resources.find("DataApplicantsTable").ref
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import string
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud.template import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    LOCAL_STACK_PARAMETERS,
    PseudoParameters,
    Template,
    TemplateError,
)

ClientsFactory = Callable[[str], Any]
"""service name -> boto3 client (already pointed at moto)."""

LAMBDA_ROLE_NAME = "localcloud-lambda-execution"


@dataclass
class Resource:
    logical_id: str
    type: str
    ref: str
    """What `Ref` returns: a table name, pool id, state machine ARN..."""
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    """Template properties with intrinsics resolved (empty when they could not be)."""
    provisioned: bool = False
    """False for types the local runtime does not create (IAM, logs, alarms...)."""

    @property
    def arn(self) -> str | None:
        arn = self.attributes.get("Arn")
        if arn is None and self.ref.startswith("arn:"):
            return self.ref
        return None if arn is None else str(arn)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "ref": self.ref, "arn": self.arn, "provisioned": self.provisioned}


class Resources(Mapping[str, Resource]):
    """Logical id -> resource, in creation order. Also the template's ReferenceSource."""

    def __init__(self, pseudo: PseudoParameters) -> None:
        self.pseudo = pseudo
        self._items: dict[str, Resource] = {}
        self.outputs: dict[str, Any] = {}

    def __getitem__(self, logical_id: str) -> Resource:
        return self._items[logical_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, resource: Resource) -> None:
        self._items[resource.logical_id] = resource

    def find(self, prefix: str, resource_type: str | None = None) -> Resource:
        """The one resource whose logical id starts with prefix (CDK appends a hash)."""
        matches = [
            r
            for lid, r in self._items.items()
            if lid.startswith(prefix) and (resource_type is None or r.type == resource_type)
        ]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources match {prefix!r} ({resource_type or 'any type'})")
        return matches[0]

    def of_type(self, resource_type: str) -> list[Resource]:
        return [r for r in self._items.values() if r.type == resource_type]

    def by_arn(self, arn: str) -> Resource | None:
        return next((r for r in self._items.values() if r.arn == arn), None)

    def physical_ids(self) -> dict[str, dict[str, Any]]:
        return {lid: r.as_dict() for lid, r in self._items.items()}

    @property
    def skipped(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self._items.values():
            if not r.provisioned:
                counts[r.type] = counts.get(r.type, 0) + 1
        return counts

    def summary(self) -> str:
        lines = [f"  {r.type:<36} {r.logical_id:<44} {r.ref}" for r in self._items.values() if r.provisioned]
        skipped = ", ".join(f"{t.removeprefix('AWS::')} x{n}" for t, n in sorted(self.skipped.items()))
        lines.append(f"  not emulated: {skipped or 'nothing'}")
        return "\n".join(lines)

    # ReferenceSource
    def ref(self, logical_id: str) -> Any:
        return self._items[logical_id].ref

    def get_att(self, logical_id: str, attribute: str) -> Any:
        resource = self._items[logical_id]
        if attribute in resource.attributes:
            return resource.attributes[attribute]
        if not resource.provisioned:  # never created: any stable made-up value will do
            return f"{resource.ref}.{attribute}"
        raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: not known for {resource.type}")


def provision(
    template: Mapping[str, Any] | Template,
    clients_factory: ClientsFactory,
    *,
    stack_name: str = "localcloud",
    region: str = DEFAULT_REGION,
    account_id: str = DEFAULT_ACCOUNT_ID,
    parameters: Mapping[str, str] = LOCAL_STACK_PARAMETERS,
) -> Resources:
    """Creates every supported resource of the template; returns all of them, created or not."""
    if not isinstance(template, Template):
        template = Template(template, PseudoParameters(stack_name, region, account_id), parameters)
    ctx = _Context(template, clients_factory)
    resources = Resources(template.pseudo)
    for logical_id in template.creation_order():
        rtype = template.resource_type(logical_id)
        raw = template.resources[logical_id].get("Properties", {})
        creator = _CREATORS.get(rtype)
        if creator is None:
            try:
                props = template.resolve(raw, resources) or {}
            except TemplateError:
                props = {}  # e.g. imports in a resource we do not emulate anyway
            ref, attrs = _placeholder(ctx, logical_id, rtype, props)
            resources.add(Resource(logical_id, rtype, ref, attrs, props, provisioned=False))
            continue
        props = template.resolve(raw, resources) or {}
        ref, attrs = creator(ctx, logical_id, props)
        resources.add(Resource(logical_id, rtype, ref, attrs, props, provisioned=True))
    for name, output in template.body.get("Outputs", {}).items():
        resources.outputs[name] = template.resolve(output.get("Value"), resources)
    return resources


class _Context:
    def __init__(self, template: Template, factory: ClientsFactory) -> None:
        self.template = template
        self.pseudo = template.pseudo
        self._factory = factory
        self._clients: dict[str, Any] = {}
        self._lambda_role: str | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._factory(service)
        return self._clients[service]

    def physical_name(self, logical_id: str, max_length: int = 128) -> str:
        # CloudFormation appends a random suffix; a stable name is friendlier locally.
        return f"{self.pseudo.stack_name}-{logical_id}"[:max_length]

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.pseudo.region if regional else ""
        return f"arn:{self.pseudo.partition}:{service}:{region}:{self.pseudo.account_id}:{resource}"

    def lambda_role(self) -> str:
        if self._lambda_role is None:
            iam = self.client("iam")
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            try:
                role = iam.get_role(RoleName=LAMBDA_ROLE_NAME)
            except iam.exceptions.NoSuchEntityException:
                role = iam.create_role(RoleName=LAMBDA_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(policy))
            self._lambda_role = str(role["Role"]["Arn"])
        return self._lambda_role


_Created = tuple[str, dict[str, Any]]


def _conform(value: Any, shape: Any) -> Any:  # noqa: PLR0911 - one return per shape type
    """Keeps only what the API operation accepts, coerced to its types.

    CloudFormation property names equal API member names for the services used here, so the
    botocore model both filters CFN-only properties and fixes "10"-vs-10 style differences.
    """
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: _conform(v, shape.members[k]) for k, v in value.items() if k in shape.members}
    if kind == "list" and isinstance(value, list):
        return [_conform(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _conform(v, shape.value) for k, v in value.items()}
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind == "string" and isinstance(value, int | float | bool):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def _params(client: Any, operation: str, props: Mapping[str, Any]) -> dict[str, Any]:
    shape = client.meta.service_model.operation_model(operation).input_shape
    return dict(_conform(dict(props), shape))


def _key_value_tags(props: Mapping[str, Any], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: str(t["Key"]), value: str(t["Value"])} for t in props.get("Tags", [])]


# -- creators -------------------------------------------------------------------------------
def _dynamodb_table(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    ddb = ctx.client("dynamodb")
    spec = dict(props)
    spec["TableName"] = props.get("TableName") or ctx.physical_name(logical_id, 255)
    if sse := props.get("SSESpecification"):
        spec["SSESpecification"] = {
            "Enabled": sse.get("SSEEnabled", False),
            **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
            **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
        }
    if stream := props.get("StreamSpecification"):
        spec["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    if props.get("BillingMode") == "PAY_PER_REQUEST":
        spec.pop("ProvisionedThroughput", None)
        for index in spec.get("GlobalSecondaryIndexes", []):
            index.pop("ProvisionedThroughput", None)
    name = spec["TableName"]
    description = ddb.create_table(**_params(ddb, "CreateTable", spec))["TableDescription"]
    ttl = props.get("TimeToLiveSpecification", {})
    if ttl.get("Enabled"):
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    pitr = props.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled"):
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    attrs = {"Arn": description["TableArn"]}
    if "LatestStreamArn" in description:
        attrs["StreamArn"] = description["LatestStreamArn"]
    return name, attrs


def _kms_key(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    kms = ctx.client("kms")
    spec = {k: v for k, v in props.items() if k in ("Description", "KeyUsage", "KeySpec", "MultiRegion")}
    spec["Tags"] = _key_value_tags(props, "TagKey", "TagValue")
    metadata = kms.create_key(**_params(kms, "CreateKey", spec))["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    return metadata["KeyId"], {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}


def _kms_alias(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    ctx.client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
    return str(props["AliasName"]), {}


def generate_secret_string(options: Mapping[str, Any]) -> str:
    """A value as Secrets Manager's GenerateSecretString would produce."""
    groups = {
        "ExcludeLowercase": string.ascii_lowercase,
        "ExcludeUppercase": string.ascii_uppercase,
        "ExcludeNumbers": string.digits,
        "ExcludePunctuation": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    }
    excluded = set(str(options.get("ExcludeCharacters", "")))
    pools = [
        "".join(c for c in chars if c not in excluded)
        for flag, chars in groups.items()
        if not _truthy(options.get(flag))
    ]
    if _truthy(options.get("IncludeSpace")):
        pools.append(" ")
    pools = [p for p in pools if p]
    if not pools:
        raise TemplateError("GenerateSecretString excludes every character")
    length = int(options.get("PasswordLength", 32))
    alphabet = "".join(pools)
    chars = [secrets.choice(alphabet) for _ in range(length)]
    if options.get("RequireEachIncludedType", True) is not False and length >= len(pools):
        positions = secrets.SystemRandom().sample(range(length), len(pools))
        for position, pool in zip(positions, pools, strict=True):
            chars[position] = secrets.choice(pool)
    value = "".join(chars)
    if "SecretStringTemplate" in options:
        document = json.loads(options["SecretStringTemplate"])
        document[options["GenerateStringKey"]] = value
        return json.dumps(document)
    return value


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _secret(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    sm = ctx.client("secretsmanager")
    name = props.get("Name") or ctx.physical_name(logical_id, 512)
    value = props.get("SecretString")
    if value is None:
        value = generate_secret_string(props.get("GenerateSecretString", {}))
    spec: dict[str, Any] = {"Name": name, "SecretString": value, "Tags": _key_value_tags(props)}
    for key in ("Description", "KmsKeyId"):
        if key in props:
            spec[key] = props[key]
    arn = sm.create_secret(**spec)["ARN"]
    return arn, {"Id": arn}


def _user_pool(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    idp = ctx.client("cognito-idp")
    spec = dict(props)
    spec["PoolName"] = props.get("UserPoolName") or ctx.physical_name(logical_id)
    pool = idp.create_user_pool(**_params(idp, "CreateUserPool", spec))["UserPool"]
    provider = f"cognito-idp.{ctx.pseudo.region}.{ctx.pseudo.url_suffix}/{pool['Id']}"
    return pool["Id"], {
        "Arn": pool["Arn"],
        "UserPoolId": pool["Id"],
        "ProviderName": provider,
        "ProviderURL": f"https://{provider}",
    }


def _user_pool_client(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    idp = ctx.client("cognito-idp")
    spec = dict(props)
    spec["ClientName"] = props.get("ClientName") or logical_id
    # Added locally only: /_local/tokens mints tokens with ADMIN_USER_PASSWORD_AUTH.
    flows = list(props.get("ExplicitAuthFlows", []))
    spec["ExplicitAuthFlows"] = [*flows, "ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    created = idp.create_user_pool_client(**_params(idp, "CreateUserPoolClient", spec))["UserPoolClient"]
    attrs = {"ClientId": created["ClientId"], "Name": created["ClientName"]}
    if "ClientSecret" in created:
        attrs["ClientSecret"] = created["ClientSecret"]
    return created["ClientId"], attrs


def _user_pool_group(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    idp = ctx.client("cognito-idp")
    spec = dict(props)
    spec["GroupName"] = props.get("GroupName") or ctx.physical_name(logical_id)
    idp.create_group(**_params(idp, "CreateGroup", spec))
    return str(spec["GroupName"]), {}


def dummy_lambda_zip() -> bytes:
    """moto needs a code package; the real code runs from the repo in worker processes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("localcloud_placeholder.py", "# code runs from the repository\n")
    return buffer.getvalue()


def _lambda_function(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    lam = ctx.client("lambda")
    variables = props.get("Environment", {}).get("Variables", {})
    spec: dict[str, Any] = {
        "FunctionName": props.get("FunctionName") or ctx.physical_name(logical_id, 64),
        "Role": ctx.lambda_role(),
        "Code": {"ZipFile": dummy_lambda_zip()},
        "Handler": props.get("Handler", "index.handler"),
        "Runtime": props.get("Runtime", "python3.12"),
        "Environment": {"Variables": {k: str(v) for k, v in variables.items()}},
    }
    for key in ("Description", "Timeout", "MemorySize", "Architectures"):
        if key in props:
            spec[key] = props[key]
    created = lam.create_function(**_params(lam, "CreateFunction", spec))
    return created["FunctionName"], {"Arn": created["FunctionArn"]}


def _state_machine(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    sfn = ctx.client("stepfunctions")
    definition = props.get("DefinitionString")
    if definition is None:
        definition = json.dumps(props.get("Definition", {}))
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    spec: dict[str, Any] = {
        "name": props.get("StateMachineName") or ctx.physical_name(logical_id, 80),
        "definition": definition,
        "roleArn": props.get("RoleArn") or ctx.arn("iam", "role/localcloud-states", regional=False),
        "type": props.get("StateMachineType", "STANDARD"),
        "tags": [{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])],
    }
    arn = sfn.create_state_machine(**spec)["stateMachineArn"]
    return arn, {"Arn": arn, "Name": spec["name"]}


def _bucket(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    s3 = ctx.client("s3")
    default = re.sub(r"[^a-z0-9-]", "-", ctx.physical_name(logical_id).lower())[:63].strip("-")
    name = str(props.get("BucketName") or default)
    spec: dict[str, Any] = {"Bucket": name}
    if ctx.pseudo.region != "us-east-1":
        spec["CreateBucketConfiguration"] = {"LocationConstraint": ctx.pseudo.region}
    s3.create_bucket(**spec)
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    domain = f"{name}.s3.{ctx.pseudo.region}.{ctx.pseudo.url_suffix}"
    return name, {
        "Arn": f"arn:{ctx.pseudo.partition}:s3:::{name}",
        "DomainName": f"{name}.s3.{ctx.pseudo.url_suffix}",
        "RegionalDomainName": domain,
        "WebsiteURL": f"http://{name}.s3-website.{ctx.pseudo.region}.{ctx.pseudo.url_suffix}",
    }


def _topic(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    sns = ctx.client("sns")
    fifo = _truthy(props.get("FifoTopic"))
    name = str(props.get("TopicName") or ctx.physical_name(logical_id, 251) + (".fifo" if fifo else ""))
    attributes = {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in props.items()
        if k in ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication")
    }
    arn = sns.create_topic(Name=name, Attributes=attributes, Tags=_key_value_tags(props))["TopicArn"]
    for subscription in props.get("Subscription", []):
        sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
    return arn, {"TopicArn": arn, "TopicName": name}


def _queue(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Created:
    sqs = ctx.client("sqs")
    fifo = _truthy(props.get("FifoQueue"))
    name = str(props.get("QueueName") or ctx.physical_name(logical_id, 75) + (".fifo" if fifo else ""))
    attributes: dict[str, str] = {}
    for key, value in props.items():
        if key in ("QueueName", "Tags"):
            continue
        if isinstance(value, dict):
            attributes[key] = json.dumps(value)
        else:
            attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
    tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
    url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=tags)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}


_CREATORS: dict[str, Callable[[_Context, str, dict[str, Any]], _Created]] = {
    "AWS::DynamoDB::Table": _dynamodb_table,
    "AWS::KMS::Key": _kms_key,
    "AWS::KMS::Alias": _kms_alias,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Cognito::UserPoolClient": _user_pool_client,
    "AWS::Cognito::UserPoolGroup": _user_pool_group,
    "AWS::Lambda::Function": _lambda_function,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::S3::Bucket": _bucket,
    "AWS::SNS::Topic": _topic,
    "AWS::SQS::Queue": _queue,
}
# What the runtime creates; everything else gets a placeholder (its Ref and attributes) and is
# listed as not emulated. That includes a nested stack (AWS::CloudFormation::Stack): the stage's
# one holds its alarms, which are not emulated either, so its template is not read at all
# (tests/localcloud/test_real_template.py checks that nothing in it would have been created).
EMULATED_TYPES = frozenset(_CREATORS)


# -- placeholders for what is not created ---------------------------------------------------
_ID_ALPHABET = string.ascii_lowercase + string.digits


def _stable_id(logical_id: str, length: int = 10) -> str:
    digest = hashlib.sha256(logical_id.encode()).digest()
    return "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in digest[:length])


def _placeholder(  # noqa: PLR0911 - one return per resource type
    ctx: _Context, logical_id: str, rtype: str, props: Mapping[str, Any]
) -> _Created:
    """Ref/GetAtt values shaped like CloudFormation's, so references to these resolve."""
    service = rtype.split("::")[1].lower()
    name_keys = (f"{rtype.rsplit('::', maxsplit=1)[-1]}Name", "Name")
    given = [props[k] for k in name_keys if isinstance(props.get(k), str)]
    name = str(given[0]) if given else ctx.physical_name(logical_id)
    rid = _stable_id(logical_id)
    if rtype == "AWS::IAM::Role":
        arn = ctx.arn("iam", f"role/{name}", regional=False)
        return name, {"Arn": arn, "RoleId": f"AROA{rid.upper()}"}
    if rtype == "AWS::IAM::ManagedPolicy":
        arn = ctx.arn("iam", f"policy/{name}", regional=False)
        return arn, {"PolicyArn": arn}
    if rtype == "AWS::Logs::LogGroup":
        return name, {"Arn": ctx.arn("logs", f"log-group:{name}:*")}
    if rtype in ("AWS::Lambda::Version", "AWS::Lambda::Alias"):
        # Qualified ARNs of the function (its name is FunctionName, resolved): invoked by them, the
        # local workers run the function itself (lambda_workers: the qualifier is ignored).
        alias = rtype == "AWS::Lambda::Alias"
        qualifier = str(props["Name"]) if alias else "1"
        arn = ctx.arn("lambda", f"function:{props['FunctionName']}:{qualifier}")
        return arn, {"AliasArn": arn} if alias else {"Version": qualifier, "FunctionArn": arn}
    if rtype == "AWS::Lambda::LayerVersion":
        arn = ctx.arn("lambda", f"layer:{name}:1")
        return arn, {"LayerVersionArn": arn}
    if rtype == "AWS::ApiGateway::RestApi":
        return rid, {"RootResourceId": _stable_id(logical_id + "/root"), "RestApiId": rid}
    if rtype == "AWS::ApiGateway::Stage":
        return str(props.get("StageName", rid)), {}
    if rtype.startswith("AWS::ApiGateway::"):
        return rid, {}
    if rtype == "AWS::WAFv2::WebACL":
        scope = props.get("Scope", "REGIONAL")
        arn = ctx.arn("wafv2", f"{str(scope).lower()}/webacl/{name}/{rid}")
        return f"{name}|{rid}|{scope}", {"Arn": arn, "Id": rid}
    return name, {"Arn": ctx.arn(service, f"{rtype.rsplit('::', maxsplit=1)[-1].lower()}/{name}")}
