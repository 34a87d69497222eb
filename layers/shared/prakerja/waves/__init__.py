"""Waves (gelombang): created by ops, joined by verified applicants, closed with the
revealed seed, which starts the selection workflow."""
