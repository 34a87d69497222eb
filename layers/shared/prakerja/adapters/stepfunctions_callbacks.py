"""The payout workflow's waiting steps resumed through their task tokens."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

# The step is not waiting on this token any more (it timed out, or an earlier call resumed it).
_GONE = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}


class StepFunctionsCallbacks:
    def __init__(self, client: SFNClient) -> None:
        self._sfn = client

    def succeed(self, task_token: str, output: dict[str, object]) -> None:
        try:
            self._sfn.send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as error:
            if error.response["Error"]["Code"] not in _GONE:
                raise
