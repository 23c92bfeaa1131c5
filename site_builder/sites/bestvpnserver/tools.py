"""The live tool pages (my IP, DNS leak test, speed test) and the speed test's payloads.

The pages are static; their scripts call the tools function (netlify/functions/tools.mjs).
The download payloads are incompressible static files served by the CDN, generated from a
fixed seed so every build writes the same bytes (and they upload once).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page

HOME = Breadcrumb("Home", "/")
HUB = Breadcrumb("Tools", "/tools/")
PAYLOAD_SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000, "25m": 25_000_000}
PAYLOAD_SEED = b"site_builder speed test payload v1"

TOOLS = (
    {
        "slug": "my-ip",
        "name": "What is my IP?",
        "template": "bestvpnserver/tool_my_ip.html",
        "script": "tools/my-ip.js",
        "title": "What is my IP address? Check what sites see when your VPN is on",
        "description": (
            "See the IP address and location websites see for you right now, IPv4 or IPv6,"
            " to check that your VPN hides your real address."
        ),
        "summary": "The address and location websites see for you.",
    },
    {
        "slug": "dns-leak-test",
        "name": "DNS leak test",
        "template": "bestvpnserver/tool_dns_leak.html",
        "script": "tools/dns-leak-test.js",
        "title": "DNS leak test: see which DNS resolvers your VPN really uses",
        "description": (
            "Resolve six random names and see which DNS resolvers asked for them, with their"
            " countries: if one is outside your VPN's country, your DNS leaks."
        ),
        "summary": "Which DNS resolvers answer for you, and whether they leak.",
    },
    {
        "slug": "speed-test",
        "name": "Speed test",
        "template": "bestvpnserver/tool_speed_test.html",
        "script": "tools/speed-test.js",
        "title": "VPN speed test: measure ping, download and upload in your browser",
        "description": (
            "Measure latency (median of ten pings), download and upload speed (90th percentile"
            " of requests of growing size) with and without your VPN."
        ),
        "summary": "Latency, download and upload speed from your browser.",
    },
)


def payload(size: int) -> bytes:
    """Deterministic, incompressible bytes (a SHAKE-256 stream from a fixed seed)."""
    return hashlib.shake_256(PAYLOAD_SEED + str(size).encode()).digest(size)


def payload_files() -> Iterator[tuple[str, bytes]]:
    for name, size in PAYLOAD_SIZES.items():
        yield f"speedtest/payload-{name}.bin", payload(size)


def tool_pages(site: SiteConfig) -> Iterator[Page]:
    yield Page(
        kind="tools",
        url="/tools/",
        template="bestvpnserver/tools.html",
        title="Free VPN test tools: IP check, DNS leak test and speed test",
        description=(
            "Three free browser tools to check a VPN: what IP address sites see, whether DNS"
            " leaks outside the tunnel, and how fast the connection is."
        ),
        context={"tools": TOOLS},
        breadcrumbs=(HOME, HUB),
    )
    for tool in TOOLS:
        url = f"/tools/{tool['slug']}/"
        yield Page(
            kind="tools",
            url=url,
            template=tool["template"],
            title=tool["title"],
            description=tool["description"],
            context={"tool": tool, "payload_sizes": PAYLOAD_SIZES},
            breadcrumbs=(HOME, HUB, Breadcrumb(tool["name"], url)),
        )
