"""The whole program on one stack per stage, its alarms in a nested stack. The stack composes:
each concern and each workflow is a construct that owns its functions, grants, state machine,
schedule and alarms' inputs; the stack passes each what it needs from the others and publishes
the outputs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from prakerja_infra.constructs.api import Api
from prakerja_infra.constructs.api_functions import ApiFunctions
from prakerja_infra.constructs.auth import Auth
from prakerja_infra.constructs.card_deadlines import CardDeadlinesWorkflow
from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.egress import place_partner_callers
from prakerja_infra.constructs.endpoints import PartnerEndpoints
from prakerja_infra.constructs.functions import FunctionFactory, Layers
from prakerja_infra.constructs.grievances import ComplaintMetrics
from prakerja_infra.constructs.notifications import Notifications
from prakerja_infra.constructs.observability import Alarms, Observability, Watched
from prakerja_infra.constructs.partners import PartnerSecrets
from prakerja_infra.constructs.payouts import PayoutWorkflow
from prakerja_infra.constructs.reconciliation import ReconciliationWorkflow
from prakerja_infra.constructs.registration import RegistrationWorkflow
from prakerja_infra.constructs.selection import SelectionWorkflow
from prakerja_infra.routes import api_routes
from prakerja_infra.stage import StageConfig


class PrakerjaStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        for key, tag in {"program": "prakerja", "stage": stage.name}.items():
            Tags.of(self).add(key, tag)

        data = Data(self, "Data", stage=stage)
        endpoints = PartnerEndpoints(self, "Endpoints")
        auth = Auth(self, "Auth", stage=stage)
        partners = PartnerSecrets(self, "Partners", stage=stage, key=data.personal_data_key)
        function = FunctionFactory(stage, Layers(self, "Layers"), data.logs_key)
        payment_partners = {
            "PAYMENT_PARTNERS_URL": endpoints.payment_partners_url,
            "PARTNER_SECRET_NAME_PREFIX": partners.prefix,
            "PAYOUTS_TABLE": data.payouts.table_name,
        }

        registration = RegistrationWorkflow(
            self,
            "RegistrationWorkflow",
            stage=stage,
            data=data,
            function=function,
            civil_registry_url=endpoints.civil_registry_url,
        )
        selection = SelectionWorkflow(self, "SelectionWorkflow", stage=stage, data=data, function=function)
        notifications = Notifications(self, "Notifications", stage=stage, data=data, function=function)
        card_deadlines = CardDeadlinesWorkflow(self, "CardDeadlinesWorkflow", stage=stage, data=data, function=function)
        payouts = PayoutWorkflow(
            self,
            "PayoutWorkflow",
            stage=stage,
            data=data,
            function=function,
            partners=partners,
            payment_partners=payment_partners,
        )
        reconciliation = ReconciliationWorkflow(
            self, "ReconciliationWorkflow", stage=stage, data=data, function=function
        )
        complaints = ComplaintMetrics(self, "ComplaintMetrics", stage=stage, data=data, function=function)
        handlers = ApiFunctions(
            self,
            "ApiFunctions",
            data=data,
            function=function,
            partners=partners,
            payment_partners=payment_partners,
            registration=registration.state_machine,
            selection=selection.state_machine,
            payouts=payouts.state_machine,
            reconciliation=reconciliation.state_machine,
        )
        # From the routers, through the OpenAPI document they make (prakerja_infra.routes).
        api = Api(
            self,
            "Api",
            stage=stage,
            logs_key=data.logs_key,
            user_pool=auth.user_pool,
            routes=api_routes(handlers.aliases),
        )

        workflows = (registration, selection, card_deadlines, payouts, reconciliation, complaints)
        functions = {
            **handlers.functions,
            **notifications.functions,
            **{name: fn for workflow in workflows for name, fn in workflow.functions.items()},
        }
        place_partner_callers(self, stage, data.logs_key, functions)
        watched = Watched(
            api=api.rest_api,
            functions=functions,
            tables=data.tables,
            table_indexes=data.table_indexes,
            state_machines={workflow.NAME: workflow.state_machine for workflow in workflows},
            dead_letter_queues={"Notifier": notifications.dead_letters},
        )
        # The alarms in a nested stack of their own, under CloudFormation's 500 resources per stack
        # (docs/deploy.md); the topic they notify and the dashboard stay here.
        observability = Observability(self, "Observability", stage=stage)
        alarms = Alarms(self, "Alarms", watched=watched, topic=observability.alarm_topic)
        observability.add_dashboard(watched, alarms.alarms)

        outputs = {
            "ApiUrl": api.rest_api.url,
            "UserPoolId": auth.user_pool.user_pool_id,
            "UserPoolClientId": auth.client.user_pool_client_id,
            "RegistrationStateMachineArn": registration.state_machine.state_machine_arn,
            "SelectionStateMachineArn": selection.state_machine.state_machine_arn,
            "CardDeadlinesStateMachineArn": card_deadlines.state_machine.state_machine_arn,
            "PayoutStateMachineArn": payouts.state_machine.state_machine_arn,
            "ReconciliationStateMachineArn": reconciliation.state_machine.state_machine_arn,
            "PayoutsBucketName": data.payout_files.bucket_name,
            "SmsDeliveryStatusRoleArn": notifications.sms_delivery_status_role.role_arn,
        }
        for name, output in outputs.items():
            CfnOutput(self, name, value=output)
