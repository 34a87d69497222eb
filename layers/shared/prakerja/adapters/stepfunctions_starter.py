"""Starts the registration workflow; the execution is named after the applicant and the attempt, so
a second start of the same attempt is refused by Step Functions and harmless."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class StepFunctionsStarter:
    """``request_id``: the id of the request being served (the API's correlation id), put in the
    execution's input so that an execution leads back to the request that started it."""

    def __init__(
        self, client: SFNClient, state_machine_arn: str, request_id: Callable[[], str | None] | None = None
    ) -> None:
        self._sfn = client
        self._arn = state_machine_arn
        self._request_id = request_id

    def start(self, applicant_id: str, attempt: int = 1) -> None:
        payload: dict[str, object] = {"applicant_id": applicant_id, "attempt": attempt}
        request_id = self._request_id() if self._request_id else None
        if request_id:
            payload["request_id"] = request_id
        with contextlib.suppress(self._sfn.exceptions.ExecutionAlreadyExists):
            self._sfn.start_execution(
                stateMachineArn=self._arn, name=execution_name(applicant_id, attempt), input=json.dumps(payload)
            )

    def is_running(self, applicant_id: str, attempt: int) -> bool:
        arn = f"{self._arn.replace(':stateMachine:', ':execution:', 1)}:{execution_name(applicant_id, attempt)}"
        try:
            return self._sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        except self._sfn.exceptions.ExecutionDoesNotExist:
            return False


def execution_name(applicant_id: str, attempt: int) -> str:
    """The first run is named after the applicant (as before attempts existed), later ones
    ``<applicant_id>-r<attempt>``."""
    return applicant_id if attempt == 1 else f"{applicant_id}-r{attempt}"


class ExecutionStarter:
    """Starts an execution with the given name and input; the same name again answers the
    first execution (Step Functions keeps names unique per state machine for 90 days)."""

    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._sfn = client
        self._arn = state_machine_arn

    def start(self, name: str, payload: dict[str, object]) -> str:
        try:
            return self._sfn.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))[
                "executionArn"
            ]
        except self._sfn.exceptions.ExecutionAlreadyExists:
            # The execution ARN is the state machine's with the execution's name.
            return f"{self._arn.replace(':stateMachine:', ':execution:', 1)}:{name}"


class SelectionWorkflowStarter:
    """Starts a wave's selection workflow, named after the wave: once per wave."""

    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._executions = ExecutionStarter(client, state_machine_arn)

    def start(self, wave_id: str) -> str:
        return self._executions.start(wave_id, {"wave_id": wave_id})
