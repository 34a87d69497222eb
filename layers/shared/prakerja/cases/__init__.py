"""Ops actions on one applicant's case, some waiting for a second ops user (four eyes)."""
