"""The ops function's routers: its handler serves them and the OpenAPI document lists them."""

from ops_api.action_routes import router as actions
from ops_api.audit_routes import router as audit
from ops_api.case_routes import router as cases
from ops_api.complaint_routes import router as complaints
from ops_api.marketplace_routes import router as marketplace
from ops_api.payout_routes import router as payouts
from ops_api.routes import router as waves_and_lists

ROUTERS = (waves_and_lists, marketplace, payouts, cases, actions, complaints, audit)
