"""Everything the local runtime holds or printed, as text documents, and the search of them for
personal data in clear.

A document is one log line, one execution history event, one S3 object, one DynamoDB item,
one stored message or one HTTP response body. Strings inside a document that are base64 of
readable text (pagination tokens, JWT payloads, task tokens) are decoded and searched as well:
base64 is an encoding, not a protection.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from moto.sns.models import sns_backends  # moto's own store of what SNS sent, in this process

from localcloud import LocalCloud
from tests.e2e_privacy.conftest import Received

FUNCTION_LOG = "function-log"
METRICS = "metrics"  # Powertools' EMF lines, printed into the function logs
RUNTIME_LOG = "runtime-log"
EXECUTION = "execution"
S3 = "s3"
DYNAMODB = "dynamodb"
OUTBOX = "outbox"
SMS = "sms"
QUEUED = "queued-message"  # dead-letter queues, alarm topics
PAYMENT_PARTNER = "payment-partner"
CIVIL_REGISTRY = "civil-registry"
IDENTITY_PROVIDER = "identity-provider"
HTTP = "http-response"


@dataclass(frozen=True)
class Document:
    kind: str
    source: str  # where it is: the function, table, bucket/key, execution/event, route
    text: str
    response: Received | None = field(default=None, compare=False)  # the exchange, for HTTP responses


# -- collection ----------------------------------------------------------------------------------
def function_logs(cloud: LocalCloud) -> list[Document]:
    """Every line each function printed (Powertools' JSON lines, EMF metrics, START/END/REPORT,
    tracebacks), by function logical id."""
    documents = []
    for path in sorted((cloud.state_dir / "logs").glob("*.log")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                documents.append(Document(METRICS if is_emf(line) else FUNCTION_LOG, path.stem, line))
    return documents


def is_emf(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and "CloudWatchMetrics" in record.get("_aws", {})


def runtime_log(lines: Iterable[str]) -> list[Document]:
    return [Document(RUNTIME_LOG, "localcloud", line) for record in lines for line in record.splitlines()]


@dataclass
class ExecutionsRead:
    documents: list[Document]
    executions_by_machine: dict[str, int]
    events: int
    map_runs: int  # described, but their child executions cannot be listed on moto (see the test)


def executions(cloud: LocalCloud) -> ExecutionsRead:
    """Every execution of every state machine: input, output, error and cause (describe), every
    history event with its data, and each Distributed Map run's description. The map runs'
    child executions are not reachable: moto's ListExecutions ignores ``mapRunArn``."""
    sfn = cloud.boto3_client("stepfunctions")
    logical = {str(m.ref): m.logical_id for m in cloud.resources.of_type("AWS::StepFunctions::StateMachine")}
    documents: list[Document] = []
    counts: dict[str, int] = {}
    events = 0
    map_runs = 0
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            name = logical.get(machine["stateMachineArn"], machine["name"])
            counts.setdefault(name, 0)
            for executions_page in sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"]
            ):
                for execution in executions_page["executions"]:
                    counts[name] += 1
                    arn = execution["executionArn"]
                    where = f"{name}/{execution['name']}"
                    described = sfn.describe_execution(executionArn=arn)
                    described.pop("ResponseMetadata", None)
                    documents.append(Document(EXECUTION, where, json.dumps(described, default=str)))
                    for history in _history_pages(sfn, arn):
                        for event in history:
                            events += 1
                            documents.append(
                                Document(EXECUTION, f"{where}#{event['id']}", json.dumps(event, default=str))
                            )
                    for run in sfn.list_map_runs(executionArn=arn)["mapRuns"]:
                        map_runs += 1
                        described = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
                        described.pop("ResponseMetadata", None)
                        documents.append(Document(EXECUTION, f"{where} map run", json.dumps(described, default=str)))
    return ExecutionsRead(documents, counts, events, map_runs)


def _history_pages(sfn: Any, arn: str) -> Iterator[list[dict[str, Any]]]:
    token = None
    while True:
        kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000, "includeExecutionData": True}
        if token:
            kwargs["nextToken"] = token
        page = sfn.get_execution_history(**kwargs)
        yield page["events"]
        token = page.get("nextToken")
        if not token:
            return


def s3_objects(cloud: LocalCloud) -> tuple[list[Document], dict[str, int]]:
    """Every object of every bucket, decompressed if gzipped; and the count per bucket."""
    s3 = cloud.boto3_client("s3")
    logical = {str(b.ref): b.logical_id for b in cloud.resources.of_type("AWS::S3::Bucket")}
    documents = []
    counts: dict[str, int] = {}
    for bucket in s3.list_buckets()["Buckets"]:
        name = logical.get(bucket["Name"], bucket["Name"])
        counts[name] = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for listed in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=listed["Key"])["Body"].read()
                documents.append(Document(S3, f"{name}/{listed['Key']}", as_text(body)))
                counts[name] += 1
    return documents, counts


def as_text(data: bytes) -> str:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # byte for byte: an ASCII number in a binary file still shows


def dynamodb_items(cloud: LocalCloud) -> tuple[list[Document], dict[str, int]]:
    """Every item of every table, in DynamoDB JSON (binary values byte for byte)."""
    db = cloud.boto3_client("dynamodb")
    logical = {str(t.ref): t.logical_id for t in cloud.resources.of_type("AWS::DynamoDB::Table")}
    documents = []
    counts: dict[str, int] = {}
    for page in db.get_paginator("list_tables").paginate():
        for table in page["TableNames"]:
            name = logical.get(table, table)
            counts[name] = 0
            for scanned in db.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                for item in scanned["Items"]:
                    counts[name] += 1
                    key = "/".join(str(next(iter(v.values()))) for k, v in sorted(item.items()) if k in ("pk", "sk"))
                    documents.append(Document(DYNAMODB, f"{name} {key}", json.dumps(item, default=_bytes_as_text)))
    return documents, counts


def _bytes_as_text(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    if isinstance(value, set):
        return sorted(value, key=str)
    raise TypeError(type(value).__name__)


def outbox(messages: list[dict[str, Any]]) -> list[Document]:
    return [Document(OUTBOX, f"{m.get('pk')}/{m.get('sk')}", json.dumps(m)) for m in messages]


def sms_messages(cloud: LocalCloud) -> list[Document]:
    """The SMS the notifier published through (moto's) SNS: the phone and the text."""
    sent = sns_backends[cloud.account_id][cloud.region].sms_messages
    return [Document(SMS, message_id, json.dumps(list(message))) for message_id, message in sent.items()]


def queued_messages(cloud: LocalCloud) -> list[Document]:
    """Whatever waits in a queue (dead letters: failed stream batches, failed events) or was
    published to a topic (alarms), read without taking it."""
    sqs = cloud.boto3_client("sqs")
    documents = []
    for url in sqs.list_queues().get("QueueUrls", []):
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        for message in received.get("Messages", []):
            documents.append(Document(QUEUED, url.rsplit("/", 1)[-1], json.dumps(message, default=str)))
    for arn, topic in sns_backends[cloud.account_id][cloud.region].topics.items():
        for notification in getattr(topic, "sent_notifications", []):
            documents.append(Document(QUEUED, arn, json.dumps(notification, default=str)))
    return documents


def payment_partner_records(cloud: LocalCloud) -> list[Document]:
    return [
        Document(PAYMENT_PARTNER, f"{t['provider']}/{t['transfer_id']}", json.dumps(t, default=str))
        for t in cloud.payment_partners.transfers()
    ]


def civil_registry(cloud: LocalCloud) -> list[Document]:
    return [Document(CIVIL_REGISTRY, r.nik[:2], json.dumps(asdict(r), default=str)) for r in cloud.registry.residents()]


def identity_provider(cloud: LocalCloud) -> list[Document]:
    idp = cloud.boto3_client("cognito-idp")
    documents = []
    for pool in cloud.resources.of_type("AWS::Cognito::UserPool"):
        for page in idp.get_paginator("list_users").paginate(UserPoolId=str(pool.ref)):
            for user in page["Users"]:
                documents.append(Document(IDENTITY_PROVIDER, pool.logical_id, json.dumps(user, default=str)))
    return documents


def http_responses(received: Iterable[Received]) -> list[Document]:
    return [Document(HTTP, f"{r.method} {r.path} -> {r.status}", r.body, r) for r in received]


# -- base64 inside documents ------------------------------------------------------------------------
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


def with_decoded(documents: Iterable[Document]) -> list[Document]:
    """The documents, plus one for each base64 string in them that decodes to readable text."""
    result = []
    for document in documents:
        result.append(document)
        for match in _BASE64.finditer(document.text):
            decoded = _readable_base64(match.group())
            if decoded is not None:
                result.append(Document(document.kind, f"{document.source} (base64)", decoded, document.response))
    return result


def _readable_base64(token: str) -> str | None:
    for alphabet in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            data = alphabet(token + "=" * (-len(token) % 4))
            text = data.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if len(text) >= 8 and all(c.isprintable() or c.isspace() for c in text):
            return text
    return None


# -- the search ------------------------------------------------------------------------------------
NIK, KK, NAME, NAME_WORD, PHONE, EMAIL, ACCOUNT = "nik", "kk", "name", "name-word", "phone", "email", "account"
MIN_NAME_WORD = 4  # shorter words ("Dwi", "Sri") are too common to mean anything on their own


@dataclass(frozen=True)
class Needle:
    person: str
    field: str
    value: str

    def label(self) -> str:
        return f"{self.person}.{self.field}"


def needles_of(person: str, body: dict[str, Any], accounts: Iterable[str] = ()) -> list[Needle]:
    """What to look for about one person: NIK, KK, full name and each word of it of 4 letters or
    more, the phone as typed, without its leading 0 and with +62, the e-mail, account numbers."""
    found = [Needle(person, NIK, body["nik"]), Needle(person, KK, body["kk_number"])]
    name = str(body["full_name"])
    found.append(Needle(person, NAME, name))
    found += [Needle(person, NAME_WORD, word) for word in name.split() if len(word) >= MIN_NAME_WORD]
    typed = str(body["phone"])
    phone = re.sub(r"[\s-]", "", typed)
    national = phone.removeprefix("+62").removeprefix("62").removeprefix("0")
    forms = [typed, phone, national, f"+62{national}"]
    found += [Needle(person, PHONE, form) for form in dict.fromkeys(forms)]
    found.append(Needle(person, EMAIL, str(body["email"])))
    found += [Needle(person, ACCOUNT, number) for number in accounts]
    return found


@dataclass(frozen=True)
class Finding:
    needle: Needle
    document: Document
    allowed_because: str | None
    context: str = field(default="", compare=False)  # around the value, every value masked

    def describe(self) -> str:
        """Where, without the data itself: a failure report must not repeat it."""
        return f"{self.needle.label()} in {self.document.kind} {self.document.source}: ...{self.context}..."


Allowance = Callable[[Document, Needle], str | None]


def search(documents: Iterable[Document], needles: list[Needle], allowance: Allowance) -> list[Finding]:
    """Every (needle, document) where the value appears in clear, case-insensitively."""
    lowered = [(n, n.value.lower()) for n in needles]
    longest_first = sorted(needles, key=lambda n: -len(n.value))
    findings = []
    for document in documents:
        text = document.text.lower()
        for needle, value in lowered:
            at = text.find(value)
            if at >= 0:
                context = document.text[max(0, at - 60) : at + len(value) + 60]
                for other in longest_first:
                    context = re.sub(re.escape(other.value), f"<{other.label()}>", context, flags=re.IGNORECASE)
                findings.append(Finding(needle, document, allowance(document, needle), context))
    return findings
