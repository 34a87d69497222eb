"""Two of moto's DynamoDB operations cost time in proportion to everything stored, which made
a 10,000-applicant program cycle (`make demo`) quadratic. The replacements answer exactly as
moto does, in time proportional to what the request names:

- `TransactWriteItems` deep-copied every table it wrote to, in case it had to roll back. Here
  every condition is checked before anything is written, as DynamoDB does, so a cancelled
  transaction writes nothing (and no stream record); only the items it names are kept aside
  for the rare failure while writing.
- A `Query` of a table (not of an index) went through every item of the table to find those
  of one partition key. Here it looks at that partition only.

And one of Cognito's: finding a user by e-mail (the pool's username attribute) went through
every user of the pool; an index of the pool's users by username attribute is kept instead.

And DynamoDB's item reads and writes (GetItem, Query, UpdateItem...) answered through moto's
generic response serializer, which walks the operation's output model value by value: a fifth of
the embedded AWS's time in a program cycle. Their results are already in DynamoDB's wire format, so
they are written out directly (binary values base64-encoded, members the output model does not
name left out, as the serializer does).

And two of every request's: the names of the handler class's methods were listed again (with
`inspect.getmembers`) for each request, and moto's own package directory was listed to find
the service a request is for; neither changes while it runs, so both lists are kept.

And three of its Step Functions interpreter's, repeated for every execution or task:

- Each execution parsed its state machine's definition again (ANTLR, ~0.1 s for ours). The
  syntax tree of a definition is now parsed once; each execution still builds its own states
  from it.
- Each Lambda task made a new boto3 client (~0.1 s). Clients are made once per service.
- Each JSONPath of a state (InputPath, Parameters, ResultPath...) was compiled again, with
  a new yacc parser, every time a state ran. Compiled paths (immutable) are kept.

The changes hold only inside `patched()`, a context the local runtime enters while it runs and
leaves when it stops, which puts every original back: unit and integration tests on plain
`mock_aws` run on moto as it is, whatever ran before them in the same process. It refuses a moto
other than the one the changes were checked against (CHECKED_MOTO_VERSION, the version pinned
in requirements/dev.in); tests/localcloud/test_moto_speedups.py compares each change's answers
with moto's own.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import importlib
import itertools
import json
import sys
from collections.abc import Iterator
from typing import Any

import moto
from moto import backends as moto_backends
from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool
from moto.cognitoidp.utils import flatten_attrs
from moto.core import responses as moto_responses
from moto.core import utils as moto_utils
from moto.core.models import botocore_stubber
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client, json_path

# The interpreter's modules that call Lambda and the AWS SDK integrations our workflows use.
_CLIENT_USERS = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
)

_list_of_moto_modules = moto_backends.list_of_moto_modules
# Operations whose results are items and their keys; every other one keeps moto's serializer.
_ITEM_OPERATIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
)
_WRITES = {"Put", "Delete", "Update"}
_Error = tuple[str, str, Any] | tuple[None, None, None]


# The moto the changes below were read against and tested with; another one may have moved what
# they replace. Upgrading moto: re-check each change against its new code, then update this.
CHECKED_MOTO_VERSION = "5.2.5"

_MISSING = object()
_depth = 0


@contextlib.contextmanager
def patched() -> Iterator[None]:
    """The faster moto while the context lasts (nested uses share one set of changes); moto's
    own code again after it."""
    global _depth  # noqa: PLW0603 - one set of changes per process, however many runtimes
    if moto.__version__ != CHECKED_MOTO_VERSION:
        raise RuntimeError(
            f"moto {moto.__version__} is not the {CHECKED_MOTO_VERSION} these changes were checked against "
            "(localcloud/moto_speedups.py)"
        )
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    saved: list[tuple[Any, str, Any]] = []
    try:
        for owner, name, value in _changes():
            saved.append((owner, name, vars(owner).get(name, _MISSING)))
            setattr(owner, name, value)
        if sys.modules[_CLIENT_USERS[0]].boto_client_for is not boto_client.boto_client_for:
            raise RuntimeError("moto's Step Functions no longer calls Lambda through boto_client_for")
        _depth = 1
        yield
    finally:
        _depth = 0
        for owner, name, original in reversed(saved):
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def _changes() -> list[tuple[Any, str, Any]]:
    """(owner, attribute, replacement) of every change, each built on moto's own at that moment."""
    shared_client = _shared_clients(boto_client.boto_client_for)
    client_users = [importlib.import_module(name) for name in _CLIENT_USERS]
    return [
        (DynamoDBBackend, "transact_write_items", _transact_write_items),
        (Table, "query", _partition_query(Table.query)),
        (moto_responses, "method_names_from_class", functools.cache(moto_utils.method_names_from_class)),
        (moto_backends, "list_of_moto_modules", functools.cache(lambda: tuple(_list_of_moto_modules()))),
        (DynamoResult, "execute_result", _item_results_written_directly(DynamoResult.execute_result)),
        (CognitoIdpUserPool, "_get_user", _get_user_by_index),
        (AmazonStateLanguageParser, "parse", staticmethod(_parse_once)),
        (json_path, "parse", functools.lru_cache(maxsize=4096)(json_path.parse)),  # type: ignore[attr-defined]
        (result_path, "parse", functools.lru_cache(maxsize=4096)(result_path.parse)),  # type: ignore[attr-defined]
        *(
            (module, "boto_client_for", shared_client)
            for module in client_users
            if getattr(module, "boto_client_for", None) is boto_client.boto_client_for
        ),
        (boto_client, "boto_client_for", shared_client),
    ]


def _key_of(table: Table, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    attrs = op["Item"]
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: attrs[name] for name in names if name in attrs}


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    # Phase 1: what DynamoDB checks before writing anything (each item once, every condition).
    checked = [_check(self, entry, seen) for entry in transact_items]
    if any(isinstance(outcome, tuple) for outcome in checked):
        raise TransactionCanceledException(
            [outcome if isinstance(outcome, tuple) else (None, None, None) for outcome in checked]
        )
    operations = [outcome for outcome in checked if isinstance(outcome, _Operation)]
    # Phase 2: the writes, with only the named items kept aside.
    kept = [(op.table, op.key, copy.deepcopy(self.get_item(op.table, op.key))) for op in operations]
    try:
        for op in operations:
            op.write(self)
    except Exception:
        for table_name, key, item in kept:
            _restore(self.get_table(table_name), key, item)
        raise


class _Operation:
    def __init__(self, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
        self.op_type, self.op, self.key, self.table = op_type, op, key, str(op["TableName"])

    def write(self, backend: DynamoDBBackend) -> None:
        op = self.op
        expression: dict[str, Any] = {
            "condition_expression": op.get("ConditionExpression"),
            "expression_attribute_names": op.get("ExpressionAttributeNames"),
            "expression_attribute_values": op.get("ExpressionAttributeValues"),
        }
        if self.op_type == "Put":
            backend.put_item(self.table, op["Item"], **expression)
        elif self.op_type == "Delete":
            backend.delete_item(self.table, self.key, **expression)
        elif self.op_type == "Update":
            backend.update_item(self.table, self.key, update_expression=op["UpdateExpression"], **expression)


def _check(backend: DynamoDBBackend, entry: dict[str, Any], seen: set[tuple[str, str]]) -> _Operation | _Error:
    """The operation to apply, or moto's (code, message, item) for one that is refused."""
    if len(entry) > 1:
        raise TransactWriteSingleOpException
    op_type, op = next(iter(entry.items()))
    original_item = None
    try:
        if op_type not in {"ConditionCheck", *_WRITES}:
            raise ValueError("Unsupported transaction operation")
        key = _key_of(backend.get_table(op["TableName"]), op_type, op)
        target = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if target in seen:
            raise MultipleTransactionsException()
        seen.add(target)
        current = backend.get_item(op["TableName"], key)
        if op.get("ConditionExpression") is not None:
            condition = get_filter_expression(
                op["ConditionExpression"], op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not condition.expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original_item = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original_item)
        return _Operation(op_type, op, key)
    except (MultipleTransactionsException, MockValidationException):
        raise
    except ConditionalCheckFailed as failed:
        return ("ConditionalCheckFailed", str(failed.message), original_item)
    except Exception as error:
        return (type(error).__name__, str(error), original_item)


def _restore(table: Table, key: dict[str, Any], item: Item | None) -> None:
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    partition: dict[DynamoType, Any] = table.items[hash_value] if range_value is not None else table.items
    slot = range_value if range_value is not None else hash_value
    if item is None:
        partition.pop(slot, None)
    else:
        partition[slot] = item


def _partition_query(query: Any) -> Any:
    """moto's Table.query takes its candidates from `self.all_items()`; for the table's own
    key only one partition can match, so that partition is all it is given."""

    def partition_query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        partition = self.items.get(hash_key)
        if partition is None:
            candidates: list[Item] = []
        else:
            candidates = list(partition.values()) if self.has_range_key else [partition]  # type: ignore[list-item]
        self.__dict__["all_items"] = lambda: candidates  # shadows the method for this call only
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.__dict__["all_items"]

    return partition_query


def _item_results_written_directly(serialize: Any) -> Any:
    @functools.wraps(serialize)
    def execute_result(self: DynamoResult, context: Any) -> Any:
        shape = context.operation_model.output_shape
        if context.operation_model.name not in _ITEM_OPERATIONS or shape is None or not isinstance(self.result, dict):
            return serialize(self, context)
        named = {name: value for name, value in self.result.items() if name in shape.members}
        body = _wire(named)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body)

    return execute_result


def _wire(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _wire(member) for name, member in value.items() if member is not None}
    if isinstance(value, list):
        return [_wire(member) for member in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _get_user_by_index(self: CognitoIdpUserPool, username: str) -> CognitoIdpUser | None:
    """moto's `_get_user`, from an index by username attribute that follows the pool's users.

    Users are only ever added here (nothing in the stack deletes users or changes their
    e-mail); should the pool shrink, the index is built again from scratch.
    """
    attribute_types = self.extended_config.get("UsernameAttributes")
    if not attribute_types:
        return self.users.get(username)
    state = self.__dict__.setdefault("_localcloud_index", {"count": 0, "users": {}})
    if len(self.users) < state["count"]:
        state.update(count=0, users={})
    if len(self.users) > state["count"]:
        # The pool is an OrderedDict, newest last: only the users added since are read.
        for user in itertools.islice(reversed(self.users.values()), len(self.users) - state["count"]):
            attributes = flatten_attrs(user.attributes)
            for attribute in attribute_types:
                if attribute in attributes:
                    state["users"].setdefault(attributes[attribute], user)
        state["count"] = len(self.users)
    found: CognitoIdpUser | None = state["users"].get(username)
    return found if found is not None else self.users.get(username)


@functools.lru_cache(maxsize=64)
def _syntax_tree(definition: str) -> Any:
    return _original_parse(definition)[1]


def _parse_once(definition: str) -> tuple[EvalComponent, Any]:
    tree = _syntax_tree(definition)  # a definition that does not parse raises, and is not kept
    return Preprocessor().visit(tree), tree


_original_parse = AmazonStateLanguageParser.parse


def _shared_clients(make_client: Any) -> Any:
    clients: dict[tuple[str, str, str], Any] = {}

    # moto's own ignores state_credentials (every client signs with the same fake keys).
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service, f"{botocore_stubber.enabled}:{moto_server_port()}")
        if key not in clients:  # a race makes two clients, one of them kept: harmless
            clients[key] = make_client(region, service)
        return clients[key]

    return boto_client_for


_transact_write_items._localcloud = True  # type: ignore[attr-defined]
