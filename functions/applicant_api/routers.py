"""The applicant function's routers: its handler serves them and the OpenAPI document lists them."""

from applicant_api.complaint_routes import router as complaints
from applicant_api.marketplace_routes import router as marketplace
from applicant_api.payout_routes import router as payouts
from applicant_api.routes import router as profile_and_waves

ROUTERS = (profile_and_waves, marketplace, payouts, complaints)
