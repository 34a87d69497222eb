"""Where the simulated applicants' ID tokens come from.

Locally, each applicant's account is minted on demand by `POST /_local/tokens` (the embedded
Cognito). On staging, tokens are minted before the run, outside the measurement, into a file
(`LOADTEST_TOKENS_FILE`) that the run reads:

    {"applicants": ["<id token>", ...],   # fresh accounts: each registers one applicant
     "recipients": ["<id token>", ...]}   # accounts of selected applicants with a card

This module's command mints that file from the staging user pool with Cognito's admin API (it
creates the applicant accounts; for recipients it signs in accounts that exist):

    python -m loadtest.tokens --user-pool-id <UserPoolId> --client-id <load-test client> \\
        --seed <LOADTEST_SEED> --applicants 5000 --recipient-emails recipients.txt --out tokens.json

It needs credentials allowed cognito-idp:AdminCreateUser, AdminSetUserPassword and
AdminInitiateAuth on the pool, and an app client with the ADMIN_USER_PASSWORD_AUTH flow: the
stack's web client (output `UserPoolClientId`) allows SRP only. ID tokens live one hour.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from loadtest.people import Population


class TokenFile:
    """The pre-minted tokens of a staging run. Each applicant token is handed out once: an
    account holds at most one applicant profile. Recipients' tokens are shared round-robin."""

    def __init__(self, path: Path) -> None:
        content = json.loads(path.read_text(encoding="utf-8"))
        self._applicants = [str(t) for t in content.get("applicants", [])]
        self._recipients = [str(t) for t in content.get("recipients", [])]
        self._next_applicant = 0
        self._next_recipient = 0
        self._lock = threading.Lock()

    def applicant(self) -> str | None:
        """A fresh account's token, or None when the file has no more."""
        with self._lock:
            if self._next_applicant >= len(self._applicants):
                return None
            self._next_applicant += 1
            return self._applicants[self._next_applicant - 1]

    def recipient(self) -> str | None:
        with self._lock:
            if not self._recipients:
                return None
            self._next_recipient += 1
            return self._recipients[(self._next_recipient - 1) % len(self._recipients)]


class CognitoSignIn:
    """Admin sign-in to a user pool: the account is created if missing (no invitation sent),
    given a fresh random password, and signed in with ADMIN_USER_PASSWORD_AUTH."""

    def __init__(self, cognito: Any, user_pool_id: str, client_id: str) -> None:
        self._cognito = cognito
        self._pool = user_pool_id
        self._client = client_id

    def id_token(self, email: str, *, create: bool) -> str:
        idp = self._cognito
        if create:
            # An account minted by an earlier run of this command is signed in again below.
            with contextlib.suppress(idp.exceptions.UsernameExistsException):
                idp.admin_create_user(
                    UserPoolId=self._pool,
                    Username=email,
                    UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
                    MessageAction="SUPPRESS",
                )
        password = f"Lt-{secrets.token_urlsafe(16)}aA1!"  # meets the pool's policy
        idp.admin_set_user_password(UserPoolId=self._pool, Username=email, Password=password, Permanent=True)
        result = idp.admin_initiate_auth(
            UserPoolId=self._pool,
            ClientId=self._client,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return str(result["AuthenticationResult"]["IdToken"])


def mint(
    sign_in: CognitoSignIn,
    applicant_emails: Iterable[str],
    recipient_emails: Iterable[str],
    threads: int = 8,
) -> dict[str, list[str]]:
    """The content of a token file. A few threads: Cognito's admin quotas are tens a second."""
    with ThreadPoolExecutor(threads) as pool:
        applicants = list(pool.map(lambda email: sign_in.id_token(email, create=True), applicant_emails))
        recipients = list(pool.map(lambda email: sign_in.id_token(email, create=False), recipient_emails))
    return {"applicants": applicants, "recipients": recipients}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mint a LOADTEST_TOKENS_FILE from a staging user pool.")
    parser.add_argument("--user-pool-id", required=True, help="the stack's output UserPoolId")
    parser.add_argument("--client-id", required=True, help="an app client allowing ADMIN_USER_PASSWORD_AUTH")
    parser.add_argument("--seed", required=True, help="the run's LOADTEST_SEED: applicant accounts are its people's")
    parser.add_argument("--first", type=int, default=0, help="the run's LOADTEST_FIRST_PERSON")
    parser.add_argument("--applicants", type=int, default=0, help="how many fresh applicant accounts")
    parser.add_argument("--recipient-emails", type=Path, help="a file of recipients' account e-mails, one a line")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import boto3  # noqa: PLC0415 - only this command talks to AWS

    population = Population(args.seed)
    applicants = [population.person(i).account_email for i in range(args.first, args.first + args.applicants)]
    recipients = args.recipient_emails.read_text().split() if args.recipient_emails else []
    sign_in = CognitoSignIn(boto3.client("cognito-idp"), args.user_pool_id, args.client_id)
    args.out.write_text(json.dumps(mint(sign_in, applicants, recipients)), encoding="utf-8")
    print(f"{len(applicants)} applicant and {len(recipients)} recipient tokens in {args.out} (valid one hour)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
