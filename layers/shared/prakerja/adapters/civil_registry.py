"""HTTP adapter for the civil registry (Dukcapil) identity check.

Contract: ``POST {base_url}/verify`` with ``{"nik", "full_name", "date_of_birth"}`` answers
``{"found": bool, "name_match": bool, "date_of_birth_match": bool}``. Timeouts, connection
errors, 429 and 5xx mean "try again later" (the workflow retries with backoff).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date

from prakerja.registration.eligibility import RegistryVerdict
from prakerja.registration.ports import CivilRegistryUnavailable


class HttpCivilRegistry:
    def __init__(self, base_url: str, timeout_seconds: float = 5.0) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the civil registry URL must be http(s)")
        self._url = base_url.rstrip("/") + "/verify"
        self._timeout = timeout_seconds

    def verify(self, nik: str, full_name: str, date_of_birth: date) -> RegistryVerdict:
        body = json.dumps({"nik": nik, "full_name": full_name, "date_of_birth": date_of_birth.isoformat()})
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self._url, data=body.encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                raise CivilRegistryUnavailable(f"registry answered {error.code}") from None
            raise
        except (urllib.error.URLError, TimeoutError) as error:
            raise CivilRegistryUnavailable(type(error).__name__) from None
        if not answer.get("found"):
            return RegistryVerdict.NOT_FOUND
        if answer.get("name_match") and answer.get("date_of_birth_match"):
            return RegistryVerdict.MATCH
        return RegistryVerdict.MISMATCH
