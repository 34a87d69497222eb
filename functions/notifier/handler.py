"""The notifier: new outbox messages (the outbox table's stream) texted to applicants by SMS.

Failed records are reported back one by one (partial batch response) so the stream retries
only those; after the retries, the batch goes to the dead-letter queue (infra). Each message is
claimed on the outbox item before it is texted (prakerja.notifications), so a batch retried,
whole after a timeout or in part, texts each applicant once: a record is reported failed only
before its SMS went out. Batches are NOTIFIER_BATCH_SIZE records, within a timeout of
NOTIFIER_TIMEOUT_SECONDS (prakerja.notifier_limits).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from prakerja.adapters import aws
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.adapters.notifications import DynamoDBOutbox, ProfilePhoneBook, SnsSmsSender
from prakerja.clock import SystemClock
from prakerja.config import NotifierSettings, load_settings
from prakerja.metrics import OperationalMetric
from prakerja.notifications import ClaimHeld, Delivery, Notifier, OutboxMessage
from prakerja.observability import logger, metrics, tracer
from prakerja.registration.service import PersonalDataVault


@cache
def notifier() -> Notifier:
    config = load_settings(NotifierSettings)
    dynamodb = aws.dynamodb()
    return Notifier(
        phones=ProfilePhoneBook(
            DynamoDBApplicantRepository(dynamodb, config.applicants_table),
            PersonalDataVault(KmsCipher(aws.kms(), config.personal_data_key_arn)),
        ),
        sms=SnsSmsSender(aws.sns(), config.sms_sender_id),
        outbox=DynamoDBOutbox(dynamodb, config.outbox_table),
        clock=SystemClock(),
    )


processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def message_of(record: DynamoDBRecord) -> OutboxMessage | None:
    """The message a stream record carries; None for removals (TTL expiry)."""
    image = record.dynamodb.new_image if record.dynamodb else None
    return OutboxMessage.of(image) if image else None


@tracer.capture_method(capture_response=False)
def deliver(record: DynamoDBRecord) -> None:
    message = message_of(record)
    if message is None:
        return
    # The wave the message is about: its lines join the selection workflow's, correlated by wave.
    logger.set_correlation_id(message.wave_id)
    about = {"applicant_id": message.applicant_id, "kind": message.kind}  # ids and codes, never the phone
    try:
        delivery = notifier().deliver(message)
    except ClaimHeld:
        logger.warning("claimed by another delivery: retried later", extra=about)
        metrics.add_metric(name=OperationalMetric.NOTIFICATIONS_CLAIM_HELD, unit="Count", value=1)
        raise
    if delivery.texted:
        logger.info("notified", extra=about)
        metrics.add_metric(name=OperationalMetric.NOTIFICATIONS_SENT, unit="Count", value=1)
    if delivery is Delivery.UNRECORDED:
        # Not retried (it would text again); the claim lapses and the item stays without sent_at.
        logger.error("notified, but the send was not recorded", extra=about)
    elif not delivery.texted:
        logger.info("not notified", extra={**about, "delivery": delivery.value})


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=deliver, processor=processor, context=context)
