"""Latency figures from round-trip samples. Pure functions.

- median: of the answered round trips;
- jitter: the mean absolute difference between successive round trips, |D(i-1, i)| of
  RFC 3550 section 6.4.1 averaged plainly (not its 1/16-smoothed running estimate, and not
  LibreSpeed's weighted one). This is also what the ingest computes from ``samples_ms``
  (pull/measurements/rows.py), so the store and the probe agree;
- packet loss: 1 - answered / sent.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class LatencySummary:
    median_ms: float | None
    jitter_ms: float | None
    loss: float
    answered: int
    sent: int


def summary(samples: list[float], sent: int) -> LatencySummary:
    if sent <= 0:
        raise ValueError("no round trips were attempted")
    gaps = [abs(a - b) for a, b in itertools.pairwise(samples)]
    return LatencySummary(
        median_ms=statistics.median(samples) if samples else None,
        jitter_ms=(sum(gaps) / len(gaps)) if gaps else (0.0 if samples else None),
        loss=max(0.0, 1 - len(samples) / sent),
        answered=len(samples),
        sent=sent,
    )
