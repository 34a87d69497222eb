"""CloudFormation template reading: parameters, conditions, intrinsic functions, ordering.

Only what a synthesized CDK template uses is supported; anything else raises TemplateError
so that a new construct fails loudly at start-up instead of provisioning something wrong.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

DEFAULT_REGION = "ap-southeast-3"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account


class TemplateError(ValueError):
    """The template uses something the local runtime cannot resolve."""


@dataclass(frozen=True)
class PseudoParameters:
    stack_name: str = "localcloud"
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"

    def as_dict(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:"
                f"stack/{self.stack_name}/00000000-0000-0000-0000-000000000000"
            ),
            "AWS::NotificationARNs": "",
        }


class ReferenceSource(Protocol):
    """Physical values of resources, as CloudFormation would return them."""

    def ref(self, logical_id: str) -> Any: ...

    def get_att(self, logical_id: str, attribute: str) -> Any: ...


class _NoValue:
    """AWS::NoValue: removes the enclosing property or list item."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
_SUB_VAR = re.compile(r"\$\{([^}]+)\}")


# The stack's deploy-time parameters (infra: constructs/endpoints.py), as the local cloud gives
# them: the simulated partners. Their address is known only once the API listens, so each
# function's environment is pointed there when its workers start (runtime._function_specs).
LOCAL_STACK_PARAMETERS = {
    "CivilRegistryUrl": "http://127.0.0.1/_local/dukcapil",
    "PaymentPartnersUrl": "http://127.0.0.1/_local/payment-partners",
}


class Template:
    def __init__(
        self,
        body: Mapping[str, Any],
        pseudo: PseudoParameters | None = None,
        parameters: Mapping[str, str] | None = None,
    ) -> None:
        self.body = body
        self.pseudo = pseudo or PseudoParameters()
        self._pseudo_values = self.pseudo.as_dict()
        self._parameters = self._parameter_values(parameters or {})
        self._conditions: dict[str, bool] = {}
        all_resources: Mapping[str, dict[str, Any]] = body.get("Resources", {})
        self.resources: dict[str, dict[str, Any]] = {
            lid: res for lid, res in all_resources.items() if "Condition" not in res or self.condition(res["Condition"])
        }

    @classmethod
    def load(
        cls, path: Path, pseudo: PseudoParameters | None = None, parameters: Mapping[str, str] | None = None
    ) -> Template:
        return cls(json.loads(path.read_text(encoding="utf-8")), pseudo, parameters)

    # -- parameters and conditions ------------------------------------------------------
    def _parameter_values(self, given: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in self.body.get("Parameters", {}).items():
            if name in given:
                raw: Any = given[name]
            elif "Default" in spec:
                raw = spec["Default"]  # SSM parameter types keep their default: no SSM here
            else:
                raise TemplateError(f"parameter {name} has no Default and no value was given")
            ptype = str(spec.get("Type", "String"))
            if ptype.startswith("List<") or ptype == "CommaDelimitedList":
                values[name] = [part.strip() for part in str(raw).split(",")]
            else:
                values[name] = str(raw)
        return values

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = self.body.get("Conditions", {}).get(name)
            if spec is None:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = self._eval_condition(spec)
        return self._conditions[name]

    def _eval_condition(self, spec: Any) -> bool:
        if not isinstance(spec, dict) or len(spec) != 1:
            raise TemplateError(f"malformed condition {spec!r}")
        ((fn, arg),) = spec.items()
        if fn == "Condition":
            return self.condition(arg)
        if fn == "Fn::Equals":
            left, right = (self.resolve(v, _NO_RESOURCES) for v in arg)
            return str(left) == str(right)
        if fn == "Fn::Not":
            return not self._eval_condition(arg[0])
        if fn == "Fn::And":
            return all(self._eval_condition(c) for c in arg)
        if fn == "Fn::Or":
            return any(self._eval_condition(c) for c in arg)
        raise TemplateError(f"unsupported condition function {fn}")

    # -- ordering -----------------------------------------------------------------------
    def resource_type(self, logical_id: str) -> str:
        return str(self.resources[logical_id]["Type"])

    def dependencies(self, logical_id: str) -> set[str]:
        resource = self.resources[logical_id]
        found: set[str] = set()
        _collect_references(resource.get("Properties", {}), found)
        depends = resource.get("DependsOn", [])
        found.update([depends] if isinstance(depends, str) else depends)
        return {dep for dep in found if dep in self.resources and dep != logical_id}

    def creation_order(self) -> list[str]:
        """Resources ordered so that each comes after what it references (template order otherwise)."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(lid: str) -> None:
            if state.get(lid) == 2:
                return
            if state.get(lid) == 1:
                raise TemplateError(f"circular dependency through {lid}")
            state[lid] = 1
            for dep in sorted(self.dependencies(lid), key=list(self.resources).index):
                visit(dep)
            state[lid] = 2
            order.append(lid)

        for lid in self.resources:
            visit(lid)
        return order

    # -- intrinsic functions ------------------------------------------------------------
    def resolve(self, value: Any, refs: ReferenceSource) -> Any:
        """The value with every intrinsic function replaced by its result."""
        result = self._resolve(value, refs)
        return None if result is NO_VALUE else result

    def _resolve(self, value: Any, refs: ReferenceSource) -> Any:
        if isinstance(value, list):
            items = [self._resolve(v, refs) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._function(key, arg, refs)
        resolved = {k: self._resolve(v, refs) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _function(self, fn: str, arg: Any, refs: ReferenceSource) -> Any:
        handler = _FUNCTIONS.get(fn)
        if handler is None:
            raise TemplateError(f"unsupported intrinsic function {fn}")
        return handler(self, arg, refs)

    def _ref(self, name: Any, refs: ReferenceSource) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._pseudo_values:
            return self._pseudo_values[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self.resources:
            return refs.ref(name)
        raise TemplateError(f"Ref to unknown name {name}")

    def _get_att(self, arg: Any, refs: ReferenceSource) -> Any:
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
        else:
            logical_id, attribute = arg[0], self._resolve(arg[1], refs)
        if logical_id not in self.resources:
            raise TemplateError(f"Fn::GetAtt on unknown resource {logical_id}")
        return refs.get_att(logical_id, str(attribute))

    def _join(self, arg: Any, refs: ReferenceSource) -> str:
        delimiter, items = arg[0], self._resolve(arg[1], refs)
        return str(delimiter).join(_as_text(v) for v in items)

    def _sub(self, arg: Any, refs: ReferenceSource) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, variables = arg[0], {k: self._resolve(v, refs) for k, v in arg[1].items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _as_text(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return _as_text(self._get_att(name, refs))
            return _as_text(self._ref(name, refs))

        return _SUB_VAR.sub(substitute, text)

    def _select(self, arg: Any, refs: ReferenceSource) -> Any:
        index, items = int(self._resolve(arg[0], refs)), self._resolve(arg[1], refs)
        return items[index]

    def _split(self, arg: Any, refs: ReferenceSource) -> list[str]:
        return str(self._resolve(arg[1], refs)).split(str(arg[0]))

    def _if(self, arg: Any, refs: ReferenceSource) -> Any:
        name, when_true, when_false = arg
        return self._resolve(when_true if self.condition(name) else when_false, refs)

    def _find_in_map(self, arg: Any, refs: ReferenceSource) -> Any:
        name, top, second = (self._resolve(a, refs) for a in arg[:3])
        try:
            return self.body["Mappings"][name][top][second]
        except KeyError as exc:
            raise TemplateError(f"Fn::FindInMap {name}/{top}/{second} not found") from exc

    def _get_azs(self, arg: Any, refs: ReferenceSource) -> list[str]:
        region = self._resolve(arg, refs) or self.pseudo.region
        return [f"{region}{zone}" for zone in "abc"]

    def _base64(self, arg: Any, refs: ReferenceSource) -> str:
        return base64.b64encode(_as_text(self._resolve(arg, refs)).encode()).decode()

    def _to_json_string(self, arg: Any, refs: ReferenceSource) -> str:
        return json.dumps(self._resolve(arg, refs), separators=(",", ":"))

    def _length(self, arg: Any, refs: ReferenceSource) -> int:
        return len(self._resolve(arg, refs))

    def _equals(self, arg: Any, refs: ReferenceSource) -> bool:
        return self._eval_condition({"Fn::Equals": arg})

    def _condition_ref(self, arg: Any, refs: ReferenceSource) -> bool:
        return self.condition(arg)


_Handler = Callable[[Template, Any, ReferenceSource], Any]
_FUNCTIONS: dict[str, _Handler] = {
    "Ref": Template._ref,
    "Fn::GetAtt": Template._get_att,
    "Fn::Join": Template._join,
    "Fn::Sub": Template._sub,
    "Fn::Select": Template._select,
    "Fn::Split": Template._split,
    "Fn::If": Template._if,
    "Fn::FindInMap": Template._find_in_map,
    "Fn::GetAZs": Template._get_azs,
    "Fn::Base64": Template._base64,
    "Fn::ToJsonString": Template._to_json_string,
    "Fn::Length": Template._length,
    "Fn::Equals": Template._equals,
    "Condition": Template._condition_ref,
}


class _NoResources:
    """Conditions may not reference resources."""

    def ref(self, logical_id: str) -> Any:
        raise TemplateError(f"conditions cannot reference resource {logical_id}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        raise TemplateError(f"conditions cannot reference resource {logical_id}")


_NO_RESOURCES = _NoResources()


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise TemplateError(f"expected a string, got {type(value).__name__}")
    return str(value)


def _collect_references(value: Any, found: set[str]) -> None:
    for key, arg in _walk_functions(value):
        if key == "Ref" and isinstance(arg, str):
            found.add(arg)
        elif key == "Fn::GetAtt":
            found.add(arg.split(".", 1)[0] if isinstance(arg, str) else arg[0])
        elif key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            for name in _SUB_VAR.findall(text):
                if not name.startswith("!"):
                    found.add(name.split(".", 1)[0])


def _walk_functions(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, list):
        for item in value:
            yield from _walk_functions(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" or key.startswith("Fn::"):
                yield key, arg
            yield from _walk_functions(arg)
