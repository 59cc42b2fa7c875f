"""The two ways `assistant eval` stops early, each with its exit code."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input to the harness (suite, thresholds, baseline, arguments): exit code 2."""


class GeneratorFailed(Exception):
    """The generator could not answer at all (not installed, unreachable, swapped for another):
    exit code 1."""
