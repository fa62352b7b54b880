"""Benchmarks: slow checks that report figures (not part of the test suite)."""
