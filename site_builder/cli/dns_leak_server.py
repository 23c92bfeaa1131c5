"""`site-builder dns-leak-server`: the DNS leak test's nameserver and results API."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from site_builder.cli.app import AppContext, Command
from site_builder.errors import ConfigError, SiteBuilderError


@click.command("dns-leak-server", cls=Command)
@click.option("--zone", required=True, help="The delegated zone, e.g. leak.example.com.")
@click.option(
    "--ns",
    "nameservers",
    multiple=True,
    required=True,
    help="This server's NS name(s) for the zone apex, e.g. ns1.leak.example.com.",
)
@click.option("--answer-ipv4", help="Address that A queries for test names get.")
@click.option("--answer-ipv6", help="Address that AAAA queries for test names get.")
@click.option("--dns-bind", default="0.0.0.0", show_default=True, help="DNS listen address.")
@click.option("--dns-port", default=53, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--http-bind",
    default="127.0.0.1",
    show_default=True,
    help="Results API listen address (put a TLS proxy in front of it).",
)
@click.option("--http-port", default=8053, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--ttl",
    "ttl_s",
    default=300,
    show_default=True,
    type=click.IntRange(10, 3600),
    help="Seconds a test's records are kept.",
)
@click.option("--max-tests", default=100_000, show_default=True, type=click.IntRange(1))
@click.option(
    "--country-db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="IP range CSV (first_ip,last_ip,country), e.g. db-ip's country lite file.",
)
@click.option(
    "--http-max-connections",
    default=32,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Results API connections served at once (a thread each); more get a 503.",
)
@click.option(
    "--http-idle-timeout",
    "http_idle_timeout_s",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1, 300),
    help="Seconds a results API connection may stay silent before it is closed.",
)
@click.option(
    "--http-request-timeout",
    "http_request_timeout_s",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1, 600),
    help="Seconds a client has to send its whole request to the results API.",
)
@click.pass_obj
def dns_leak_server(
    app: AppContext,
    zone: str,
    nameservers: tuple[str, ...],
    answer_ipv4: str | None,
    answer_ipv6: str | None,
    dns_bind: str,
    dns_port: int,
    http_bind: str,
    http_port: int,
    ttl_s: int,
    max_tests: int,
    country_db: Path | None,
    http_max_connections: int,
    http_idle_timeout_s: float,
    http_request_timeout_s: float,
) -> None:
    """Run the DNS leak test's authoritative nameserver and its results API.

    Answers A/AAAA for random names under --zone with TTL 0 (UDP and TCP), records which
    resolver asked for which test id, and serves GET /results/<id> to callers holding
    the shared secret in $DNS_LEAK_RESULTS_SECRET. See docs/tools.md.
    """
    from site_builder.dnsleak.geo import CountryLookup
    from site_builder.dnsleak.server import NameServer
    from site_builder.dnsleak.store import LeakStore
    from site_builder.dnsleak.zone import ZoneConfig

    secret = app.env.get("DNS_LEAK_RESULTS_SECRET")
    if not secret or len(secret) < 16:
        raise ConfigError("set DNS_LEAK_RESULTS_SECRET (16 characters or more) to run the server")
    if not (answer_ipv4 or answer_ipv6):
        raise ConfigError("give --answer-ipv4 and/or --answer-ipv6")
    config = ZoneConfig(
        zone=zone.rstrip("."),
        nameservers=nameservers,
        answer_ipv4=answer_ipv4,
        answer_ipv6=answer_ipv6,
    )
    try:
        server = NameServer(
            config,
            secret=secret,
            store=LeakStore(ttl_s=ttl_s, max_tests=max_tests),
            countries=CountryLookup.from_csv(country_db) if country_db else None,
            dns_address=(dns_bind, dns_port),
            http_address=(http_bind, http_port),
            http_max_connections=http_max_connections,
            http_idle_timeout_s=http_idle_timeout_s,
            http_request_timeout_s=http_request_timeout_s,
        )
    except OSError as exc:
        raise SiteBuilderError(
            f"cannot listen: {exc.strerror} (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        ) from None
    server.start()
    app.console.print(
        f"dns-leak-server: zone {config.zone}, DNS on {dns_bind}:{server.dns_port} (UDP+TCP),"
        f" results on http://{http_bind}:{server.http_port}/results/<id>"
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
