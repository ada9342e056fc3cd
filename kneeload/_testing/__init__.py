"""Helpers for tests, benchmarks and the sample generator; not part of the runtime API.

``kneeload._testing.synth`` writes synthetic FIT/GPX runs with known answers.
"""
