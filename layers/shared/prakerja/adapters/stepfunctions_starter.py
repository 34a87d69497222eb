"""Starts the registration workflow; the execution is named after the applicant, so a second
start for the same applicant is refused by Step Functions and harmless."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class StepFunctionsStarter:
    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._sfn = client
        self._arn = state_machine_arn

    def start(self, applicant_id: str) -> None:
        with contextlib.suppress(self._sfn.exceptions.ExecutionAlreadyExists):
            self._sfn.start_execution(
                stateMachineArn=self._arn, name=applicant_id, input=json.dumps({"applicant_id": applicant_id})
            )


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
