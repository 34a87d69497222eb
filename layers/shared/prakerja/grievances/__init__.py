"""Grievances: complaint tickets filed by applicants and answered by ops (API.md, "Grievances";
design in docs/grievances.md)."""
