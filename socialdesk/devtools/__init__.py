"""Helpers for the project's own tests and benchmarks (not used by the running desk)."""
