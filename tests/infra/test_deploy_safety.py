"""An update must not replace what holds data or what others hold on to. CloudFormation replaces a
resource whose logical id changes: a table, bucket, key or secret with a new id is a new, empty
one; a new user pool or client, API, topic or dead-letter queue loses its users, its URL, its
confirmed subscriptions or its messages; a named state machine or log group with a new id fails
the update on its own name, and so may a named dashboard (or, written over, be deleted by that name
with its old id). Moving a construct (one per workflow, or to another stack) must keep these ids,
by override if need be. The ids are those of the stack as deployed; a new resource of
these kinds is added here once it is."""

from __future__ import annotations

import pytest

from tests.infra.cfn import CfnTemplate

DEPLOYED = {
    "AWS::DynamoDB::Table": [
        "DataApplicantsTable456314DB",
        "DataAttemptsTable8D8BC455",
        "DataCatalogTable46E90E4C",
        "DataExclusionsTable9ED39DC1",
        "DataIdempotencyTable36C198C8",
        "DataLedgerTable126E989E",
        "DataOutboxTable84346732",
        "DataPayoutsTableFEA7E497",
        "DataWavesTable20C8DC94",
    ],
    "AWS::S3::Bucket": ["DataAccessLogsBucketC3B60382", "DataPayoutsBucket9EF52625", "DataSelectionBucketDC2D272C"],
    "AWS::KMS::Key": ["DataLogsKey7257A99D", "DataPersonalDataKey063C1457", "ObservabilityAlarmTopicKey48516DE9"],
    "AWS::SecretsManager::Secret": [
        "DataPersonalDataHashingKey69CAAEB2",
        "PartnersBNIB49CAB90",
        "PartnersBUKALAPAK859F505E",
        "PartnersDANA4403B680",
        "PartnersGOPAYFA27C057",
        "PartnersLINKAJA3B7A8C27",
        "PartnersMAUBELAJARAPA5C72B61D",
        "PartnersOVOB0722871",
        "PartnersPIJARMAHIRC91B8154",
        "PartnersPINTARIA69A3CF28",
        "PartnersSEKOLAHMUD1A974AA",
        "PartnersSISNAKER3CE90F71",
        "PartnersTOKOPEDIAB5D17C27",
    ],
    "AWS::Cognito::UserPool": ["AuthApplicantPoolA900E7EB"],
    "AWS::Cognito::UserPoolClient": ["AuthApplicantPoolWebClient98E9C2C5"],
    "AWS::SQS::Queue": ["NotifierDeadLettersB15D036B"],
    "AWS::StepFunctions::StateMachine": [
        "CardDeadlinesWorkflowStateMachine246948CB",
        "PayoutWorkflowStateMachine06BADE41",
        "ReconciliationWorkflowStateMachineF8833E0A",
        "RegistrationWorkflowStateMachineECB1B1D1",
        "SelectionWorkflowStateMachine6E4AC918",
    ],
    "AWS::SNS::Topic": ["ObservabilityAlarmTopicF724909D"],
    # Named (prakerja-<stage>): with a new id, or moved to the alarms' nested stack, the new one is
    # created under the name the old one still holds, and the old one is deleted by that name after.
    "AWS::CloudWatch::Dashboard": ["ObservabilityDashboard9A1D08B3"],
    "AWS::ApiGateway::RestApi": ["ApiRestApiE35FEAFE"],
    # Named (/aws/vendedlogs/states/prakerja-<stage>-<workflow>): a new id would clash on the name.
    "AWS::Logs::LogGroup": [
        "CardDeadlinesWorkflowLogs68F452D7",
        "ComplaintMetricsLogsC030BA7E",  # new with grievances (not deployed yet): its id from the start
        "PayoutWorkflowLogsC1257E8A",
        "ReconciliationWorkflowLogsEE805599",
        "RegistrationWorkflowLogsD07FC577",
        "SelectionWorkflowLogs33BAB463",
    ],
}


@pytest.mark.parametrize(("resource_type", "logical_id"), [(t, i) for t, ids in DEPLOYED.items() for i in ids])
def test_what_holds_data_or_a_name_keeps_its_logical_id(
    dev_template: CfnTemplate, resource_type: str, logical_id: str
) -> None:
    resource = dev_template["Resources"].get(logical_id)
    assert resource is not None, f"{logical_id} is gone: an update would replace it"
    assert resource["Type"] == resource_type


def test_every_named_log_group_is_kept(dev_template: CfnTemplate) -> None:
    named = {
        lid
        for lid, r in dev_template["Resources"].items()
        if r["Type"] == "AWS::Logs::LogGroup" and "LogGroupName" in r["Properties"]
    }
    assert named <= set(DEPLOYED["AWS::Logs::LogGroup"])
