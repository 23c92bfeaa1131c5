"""The template environment's shortcuts give exactly what stock Jinja gives.

`escape_output` replaces markupsafe's `escape` for `{{ }}` output, `DataEnvironment`
reads dict rows without a failed attribute lookup first, and the text between two tags is
yielded as one string: all are only there for speed, so any difference from Jinja's own
behaviour, above all in escaping, is a bug.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from site_builder.render.environment import (
    date_text,
    day_text,
    escape_output,
    iso,
    make_environment,
    mbps,
    ms,
    percent,
)

HOSTILE = '<script>alert(\'x\')</script> & "quoted" <b onmouseover="x">'


def _pair(tmp_path: Path, templates: dict[str, str]) -> tuple[jinja2.Environment, ...]:
    for name, source in templates.items():
        (tmp_path / name).write_text(source)
    ours = make_environment(tmp_path, {})
    stock = jinja2.Environment(
        loader=jinja2.FileSystemLoader(tmp_path),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    stock.filters.update(ours.filters)
    return ours, stock


values = st.one_of(
    st.text(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text().map(Markup),
    st.decimals(allow_nan=False, allow_infinity=False),
)


@given(values)
def test_output_is_escaped_exactly_as_markupsafe_escapes(value: object) -> None:
    assert escape_output(value) == str(escape(value))


def test_hostile_values_render_as_text_in_every_output_position(tmp_path: Path) -> None:
    templates = {
        "macros.html": "{% macro cell(v) %}<td>{{ v }}</td>{% endmacro %}",
        "page.html": (
            '{% from "macros.html" import cell %}'
            '<p title="{{ row.name }}">{{ row.name }}</p>{{ cell(row.name) }}'
            "{% set captured %}<i>{{ row.name }}</i>{% endset %}{{ captured }}"
            "{% filter upper %}{{ row.name }}{% endfilter %}"
            "{{ row.name ~ '!' }}{{ row.safe_html }}{{ row.number }}{{ row.ratio }}"
            "{% for k, v in row.nested.items() %}{{ k }}={{ v }}{% endfor %}"
            "{% include 'part.html' %}"
        ),
        "part.html": "<em>{{ row.name }}</em>",
    }
    ours, stock = _pair(tmp_path, templates)
    row = {
        "name": HOSTILE,
        "safe_html": Markup("<b>trusted</b>"),
        "number": 42,
        "ratio": 0.5,
        "nested": {HOSTILE: HOSTILE},
    }
    html = ours.get_template("page.html").render(row=row)
    assert html == stock.get_template("page.html").render(row=row)
    assert "<script>" not in html and "<b onmouseover" not in html
    assert "<b>trusted</b>" in html  # values marked safe stay as they are


def test_text_between_tags_joined_renders_as_jinja_renders_it(tmp_path: Path) -> None:
    templates = {
        "base.html": (
            "<title>{% block title %}Site{% endblock %}</title>\n"
            "<main>{% block content %}{% endblock %}</main>{{ footer }}"
        ),
        "page.html": (
            '{% extends "base.html" %}ignored outside blocks {{ footer }}'
            "{% block title %}{{ heading }} | {{ super() }}{% endblock %}"
            "{% block content %}<h1>{{ heading }}</h1>\n"
            "{% for r in rows %}<tr><td>{{ loop.index }}</td><td>{{ r.name }}</td>"
            "<td>{{ r.ratio|percent }}</td>{% if r.ok %}<td>ok</td>{% endif %}</tr>\n"
            "{% else %}<p>none</p>{% endfor %}"
            "{% call wrap() %}{{ heading }} inside{% endcall %}"
            "{% endblock %}"
            "{% macro wrap() %}<div>{{ caller() }}</div>{% endmacro %}"
        ),
        "chosen.html": "{% extends layout %}{% block content %}{{ heading }}{% endblock %}",
        "plain.html": "just text",
    }
    ours, stock = _pair(tmp_path, templates)
    context = {
        "heading": HOSTILE,
        "footer": Markup("<footer>f</footer>"),
        "rows": [{"name": HOSTILE, "ratio": 0.5, "ok": True}, {"name": 7, "ratio": 1, "ok": 0}],
        "layout": "base.html",
    }
    for name in ("page.html", "chosen.html", "plain.html"):
        html = ours.get_template(name).render(**context)
        assert html == stock.get_template(name).render(**context)
    empty = {**context, "rows": []}
    assert ours.get_template("page.html").render(**empty) == stock.get_template("page.html").render(
        **empty
    )


class _Overlay(dict[str, object]):
    """A dict subclass whose misses read another dict."""

    def __init__(self, own: dict[str, object], under: dict[str, object]) -> None:
        super().__init__(own)
        self.under = under

    def __missing__(self, key: str) -> object:
        return self.under[key]


def test_dict_rows_read_like_jinja_reads_them(tmp_path: Path) -> None:
    templates = {
        "page.html": (
            "{{ row.hostname }} {{ row['hostname'] }} {{ row.items()|list|length }}"
            " {{ row.get('hostname') }} {{ group.items is callable }} {{ group['items']|length }}"
            " {{ row.absent is defined }} {{ view.hostname }} {{ view.runs }} {{ number.real }}"
            "{% for name in ('hostname', 'items') %} {{ row[name] }}{% endfor %}"
        ),
        "missing.html": "{{ row.no_such_key }}",
    }
    ours, stock = _pair(tmp_path, templates)
    row = {"hostname": "fra-1", "items": [1, 2, 3]}
    group = {"items": [1, 2, 3]}  # a dict's own methods win over a key of the same name
    view = _Overlay({"runs": 4}, row)  # a dict subclass, its misses read from `row`
    page = ours.get_template("page.html")
    given = {"row": row, "group": group, "view": view, "number": 7}
    assert page.render(**given) == stock.get_template("page.html").render(**given)
    with pytest.raises(jinja2.UndefinedError, match="no_such_key"):
        ours.get_template("missing.html").render(row=row)


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7, minutes=-30))]),
    )
)
def test_dates_read_as_strftime_writes_them_in_utc(value: datetime) -> None:
    in_utc = value.astimezone(UTC)
    assert iso(value) == in_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert date_text(value) == in_utc.strftime("%-d %b %Y")


@given(st.dates(min_value=date(1900, 1, 1)))
def test_a_day_reads_as_its_iso_date(value: date) -> None:
    assert iso(value) == value.isoformat()


@given(st.dates(min_value=date(1000, 1, 1)))
def test_a_day_reads_as_strftime_writes_it_in_english(value: date) -> None:
    assert day_text(value) == value.strftime("%-d %b %Y")
    assert day_text(value, year=False) == value.strftime("%-d %b")


@given(st.one_of(st.integers(-(10**15), 10**15), st.floats(-1e15, 1e15)))
def test_speeds_and_latencies_read_as_the_grouped_format_writes_them(value: float) -> None:
    assert mbps(value) == f"{value * 8 / 1_000_000:,.0f} Mbit/s"
    assert ms(value) == f"{value:,.0f} ms"


def test_speeds_and_latencies_group_thousands_from_where_they_round_to_one() -> None:
    assert ms(999.4) == "999 ms"
    assert ms(999.5) == "1,000 ms"
    assert ms(-1500) == "-1,500 ms"
    assert mbps(124_937_500) == "1,000 Mbit/s"  # 999.5 Mbit/s rounds to even: 1,000
    assert mbps(None) == ms(None) == "—"


@given(st.floats(min_value=0, max_value=1))
def test_percent_rounds_as_the_format_it_replaced(fraction: float) -> None:
    assert percent(fraction) == "%.0f%%" % (fraction * 100)


def test_templates_compiled_in_a_forked_process_render_as_those_compiled_here(
    tmp_path: Path,
) -> None:
    """The build compiles a site's templates in a child while it fingerprints the data; the
    bytecode the child leaves is loaded into the environment the render workers inherit."""
    from site_builder.render.parallel import templates_compiled_beside

    (tmp_path / "shared").mkdir()
    (tmp_path / "site").mkdir()
    (tmp_path / "other").mkdir()
    templates = {
        "shared/base.html": "<title>{{ title }}</title>{% block body %}{% endblock %}",
        "site/page.html": '{% extends "shared/base.html" %}{% block body %}'
        "{% for row in rows %}<td>{{ row.name }}</td>{% endfor %}{% endblock %}",
        "other/page.html": "<p>{{ title }}</p>",
    }
    for name, source in templates.items():
        (tmp_path / name).write_text(source)
    environment = make_environment(tmp_path, {})
    with templates_compiled_beside(environment, ("shared/", "site/")) as compiled:
        assert not environment.cache  # the child compiles; this process goes on
        compiled()
        cache_folder = Path(environment.bytecode_cache.directory)
        assert len(list(cache_folder.iterdir())) == 2  # the two under the folders asked for
    assert environment.bytecode_cache is None and not cache_folder.exists()
    assert sorted(name for _, name in environment.cache) == ["shared/base.html", "site/page.html"]
    context = {"title": HOSTILE, "rows": [{"name": HOSTILE}, {"name": "de-fra-001"}]}
    expected = make_environment(tmp_path, {}).get_template("site/page.html").render(context)
    assert environment.get_template("site/page.html").render(context) == expected
    assert environment.get_template("other/page.html").render(title="x") == "<p>x</p>"


def test_numbered_rows_match_jinjas_loop_index(tmp_path: Path) -> None:
    ours, stock = _pair(
        tmp_path,
        {
            "ours.html": "{% for n, row in rows|numbered %}{{ n }}:{{ row }} {% endfor %}",
            "stock.html": "{% for row in rows %}{{ loop.index }}:{{ row }} {% endfor %}",
        },
    )
    rows = ["de-fra-001", HOSTILE, 3]
    expected = stock.get_template("stock.html").render(rows=rows)
    assert ours.get_template("ours.html").render(rows=rows) == expected
    assert ours.get_template("ours.html").render(rows=[]) == ""
