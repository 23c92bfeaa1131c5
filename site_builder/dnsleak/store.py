"""A bounded, expiring record of which resolvers asked about which test id.

Memory is capped twice: at most `max_resolvers_per_test` distinct resolvers per test id, and
at most `max_tests` test ids in all (the oldest is dropped first). Entries expire `ttl_s`
seconds after the test's first query. All methods take `now` so tests control time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class ResolverSeen:
    ip: str
    first_seen: float
    last_seen: float
    queries: int = 0
    qtypes: set[str] = field(default_factory=set)


@dataclass
class _Test:
    created: float
    resolvers: dict[str, ResolverSeen] = field(default_factory=dict)


class LeakStore:
    def __init__(
        self, *, ttl_s: float = 300.0, max_tests: int = 100_000, max_resolvers_per_test: int = 32
    ) -> None:
        self.ttl_s = ttl_s
        self.max_tests = max_tests
        self.max_resolvers_per_test = max_resolvers_per_test
        self._tests: OrderedDict[str, _Test] = OrderedDict()  # oldest first
        self._lock = threading.Lock()

    def record(self, test_id: str, resolver_ip: str, qtype: str, now: float) -> None:
        with self._lock:
            self._expire(now)
            test = self._tests.get(test_id)
            if test is None:
                while len(self._tests) >= self.max_tests:
                    self._tests.popitem(last=False)
                test = self._tests[test_id] = _Test(created=now)
            seen = test.resolvers.get(resolver_ip)
            if seen is None:
                if len(test.resolvers) >= self.max_resolvers_per_test:
                    return
                seen = test.resolvers[resolver_ip] = ResolverSeen(resolver_ip, now, now)
            seen.last_seen = now
            seen.queries += 1
            if len(seen.qtypes) < 8:
                seen.qtypes.add(qtype)

    def results(self, test_id: str, now: float) -> list[ResolverSeen]:
        with self._lock:
            self._expire(now)
            test = self._tests.get(test_id)
            if test is None:
                return []
            return sorted(
                (
                    ResolverSeen(r.ip, r.first_seen, r.last_seen, r.queries, set(r.qtypes))
                    for r in test.resolvers.values()
                ),
                key=lambda r: (r.first_seen, r.ip),
            )

    def _expire(self, now: float) -> None:
        while self._tests:
            oldest_id, oldest = next(iter(self._tests.items()))
            if now - oldest.created < self.ttl_s:
                break
            del self._tests[oldest_id]

    def size(self) -> tuple[int, int]:
        """(test ids held, resolver entries held)."""
        with self._lock:
            return len(self._tests), sum(len(t.resolvers) for t in self._tests.values())
