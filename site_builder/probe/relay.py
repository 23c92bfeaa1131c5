"""A userspace UDP relay that adds delay, jitter, loss and a rate limit (no `tc netem` here).

    python -m site_builder.probe.relay --listen 0.0.0.0:51821 --upstream 127.0.0.1:51820 \\
        --rtt-ms 40 --jitter-ms 5 --loss 0.05 --rate-mbit 20

It sits on a tunnel's transport path (the tests and bench/probe_accuracy_bench.py put it in
front of the WireGuard or OpenVPN server), so every packet of the tunnel goes through it:

- **delay**: each direction gets half of `--rtt-ms`;
- **jitter**: each packet's delay moves by a uniform amount in ±`--jitter-ms` (packets may
  be reordered, as with netem);
- **loss**: on the client-to-server direction only, so a round trip is lost with exactly
  the given probability. ``--loss-mode even`` (default) drops evenly spread packets (an
  error-diffusion counter: 5% drops the 20th, 40th, …), so a few hundred packets show the
  set rate; ``random`` draws with a seeded generator;
- **rate**: each direction is a FIFO link of `--rate-mbit` (UDP payload bits), with a tail
  drop past `--queue-ms` of queue.

The first address that sends to the listening port is the client; answers go back to the
latest client address. Stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import heapq
import random
import selectors
import signal
import socket
import time
from dataclasses import dataclass, field


@dataclass
class Impairment:
    rtt_ms: float = 0.0
    jitter_ms: float = 0.0
    loss: float = 0.0
    rate_mbit: float = 0.0  # 0: unlimited
    queue_ms: float = 200.0
    loss_mode: str = "even"
    seed: int = 1


@dataclass
class _Direction:
    busy_until: float = 0.0
    loss_credit: float = 0.0
    dropped: int = 0
    passed: int = 0


@dataclass
class Relay:
    impairment: Impairment
    rng: random.Random = field(default_factory=random.Random)
    up: _Direction = field(default_factory=_Direction)
    down: _Direction = field(default_factory=_Direction)

    def __post_init__(self) -> None:
        self.rng.seed(self.impairment.seed)

    def _lost(self, direction: _Direction) -> bool:
        loss = self.impairment.loss
        if direction is not self.up or loss <= 0:
            return False
        if self.impairment.loss_mode == "random":
            return self.rng.random() < loss
        direction.loss_credit += loss
        if direction.loss_credit >= 1.0:
            direction.loss_credit -= 1.0
            return True
        return False

    def schedule(self, now: float, size: int, upstream: bool) -> float | None:
        """When a packet arriving now should leave, or None if it is dropped."""
        direction = self.up if upstream else self.down
        if self._lost(direction):
            direction.dropped += 1
            return None
        departs = now
        rate = self.impairment.rate_mbit * 1e6 / 8
        if rate > 0:
            start = max(now, direction.busy_until)
            if start - now > self.impairment.queue_ms / 1000:
                direction.dropped += 1
                return None
            direction.busy_until = departs = start + size / rate
        delay = self.impairment.rtt_ms / 2000
        if self.impairment.jitter_ms:
            delay += self.rng.uniform(-1, 1) * self.impairment.jitter_ms / 1000
        direction.passed += 1
        return departs + max(0.0, delay)


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def serve(
    listen: tuple[str, int], upstream: tuple[str, int], relay: Relay, stop: list[bool]
) -> None:
    outside = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    outside.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    outside.bind(listen)
    inside = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    inside.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    inside.connect(upstream)
    selector = selectors.DefaultSelector()
    selector.register(outside, selectors.EVENT_READ, True)
    selector.register(inside, selectors.EVENT_READ, False)
    queue: list[tuple[float, int, bool, bytes]] = []
    client: tuple[str, int] | None = None
    sequence = 0
    while not stop[0]:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, upward, data = heapq.heappop(queue)
            try:
                if upward:
                    inside.send(data)
                elif client is not None:
                    outside.sendto(data, client)
            except OSError:
                pass  # the far side is gone: the packet is lost, like on a wire
        timeout = min(0.2, max(0.0, queue[0][0] - now)) if queue else 0.2
        for key, _ in selector.select(timeout):
            upward = key.data
            try:
                if upward:
                    data, client = outside.recvfrom(65535)
                else:
                    data = inside.recv(65535)
            except OSError:
                continue
            due = relay.schedule(time.monotonic(), len(data), upward)
            if due is not None:
                sequence += 1
                heapq.heappush(queue, (due, sequence, upward, data))
    selector.close()
    outside.close()
    inside.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="site_builder.probe.relay")
    parser.add_argument("--listen", required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--loss-mode", choices=("even", "random"), default="even")
    parser.add_argument("--rate-mbit", type=float, default=0.0)
    parser.add_argument("--queue-ms", type=float, default=200.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    impairment = Impairment(
        args.rtt_ms,
        args.jitter_ms,
        args.loss,
        args.rate_mbit,
        args.queue_ms,
        args.loss_mode,
        args.seed,
    )
    stop = [False]

    def on_term(signum: int, frame: object) -> None:
        stop[0] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print("relay ready", flush=True)
    serve(_address(args.listen), _address(args.upstream), Relay(impairment), stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
