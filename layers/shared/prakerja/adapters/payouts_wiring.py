"""The payout services assembled from their settings: shared by the applicant API (accounts,
incentives), the partner API (callbacks) and the payout workflow's steps."""

from __future__ import annotations

from prakerja.adapters import aws
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_payouts import DynamoDBPayoutAccounts, DynamoDBPayouts, DynamoDBTransferRateLimit
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.adapters.partner_secrets import SecretsManagerPartnerSecrets
from prakerja.adapters.payment_partners import HttpPaymentPartners
from prakerja.adapters.payout_metrics import PayoutMetrics
from prakerja.adapters.stepfunctions_callbacks import StepFunctionsCallbacks
from prakerja.clock import SystemClock, WallClock
from prakerja.config import PartnerSecretSettings, PaymentPartnerSettings
from prakerja.partners import load_partners
from prakerja.payouts.service import AccountNumbers, Settlements, TransferService


def partner_secrets(config: PartnerSecretSettings) -> SecretsManagerPartnerSecrets:
    return SecretsManagerPartnerSecrets(
        aws.secretsmanager(), config.partner_secret_name_prefix, config.partner_secret_max_age_seconds
    )


def payment_partners(config: PaymentPartnerSettings) -> HttpPaymentPartners:
    return HttpPaymentPartners(
        str(config.payment_partners_url), partner_secrets(config), config.payment_partner_timeout_seconds
    )


def payouts(payouts_table: str, ledger_table: str) -> DynamoDBPayouts:
    client = aws.dynamodb()
    return DynamoDBPayouts(client, payouts_table, DynamoDBLedger(client, ledger_table))


def payout_accounts(payouts_table: str) -> DynamoDBPayoutAccounts:
    return DynamoDBPayoutAccounts(aws.dynamodb(), payouts_table)


def account_numbers(personal_data_key_arn: str) -> AccountNumbers:
    return AccountNumbers(KmsCipher(aws.kms(), personal_data_key_arn))


def settlements(payouts_table: str, ledger_table: str) -> Settlements:
    return Settlements(
        payouts(payouts_table, ledger_table),
        StepFunctionsCallbacks(aws.stepfunctions()),
        SystemClock(),
        PayoutMetrics(),
    )


def transfer_service(config: PaymentPartnerSettings, ledger_table: str, personal_data_key_arn: str) -> TransferService:
    table = config.payouts_table
    rate_limit = DynamoDBTransferRateLimit(aws.dynamodb(), table, load_partners().transfer_rates(), WallClock())
    return TransferService(
        accounts=payout_accounts(table),
        payouts=payouts(table, ledger_table),
        numbers=account_numbers(personal_data_key_arn),
        partners=payment_partners(config),
        settlements=settlements(table, ledger_table),
        rate_limit=rate_limit,
        clock=SystemClock(),
        tally=PayoutMetrics(),
    )
