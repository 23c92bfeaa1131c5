"""The Jinja2 environment shared by every site: autoescaped, strict, with data filters."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import minify_html
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateSyntaxError, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.nodes import Expr
from markupsafe import Markup, _escape_inner

from site_builder.errors import SiteBuilderError


def usd(value: Decimal | None, per: str = "") -> str:
    """$2.99, or $0.045 for sub-dime prices; '—' for missing."""
    if value is None:
        return "—"
    places = 2 if value >= Decimal("0.1") else 4
    text = f"${value:,.{places}f}"
    return f"{text}/{per}" if per else text


def _size(gb: float) -> str:
    """1800 -> "1,800", 7.5 -> "7.5": whole numbers without a decimal point."""
    return f"{gb:,.0f}" if gb == round(gb) else f"{gb:,.1f}"


def instance_size(offer: Mapping[str, Any]) -> str:
    """What an offer's instance comes with, as far as its provider says:
    "208 vCPU · 1,800 GB RAM · 23.6 TB storage"; "" when it says nothing. Storage is in
    decimal GB (TB from 1000 GB on, as disks are sold); RAM stays in GB as providers count it.
    """
    parts = []
    if offer.get("vcpus"):
        parts.append(f"{offer['vcpus']} vCPU")
    if offer.get("memory_gb"):
        parts.append(f"{_size(offer['memory_gb'])} GB RAM")
    storage = offer.get("storage_gb")
    if storage:
        disk = (
            f"{_size(round(storage / 1000, 1))} TB" if storage >= 1000 else f"{_size(storage)} GB"
        )
        parts.append(f"{disk} storage")
    return " · ".join(parts)


def _whole(value: float) -> str:
    """A number rounded to a whole one, thousands grouped ("1,234"). Below a thousand
    there is nothing to group, and the "," spec costs as much again: this runs for every
    speed and latency cell of every measurement table."""
    return f"{value:.0f}" if -999.5 < value < 999.5 else f"{value:,.0f}"


def mbps(bytes_per_s: float | int | None) -> str:
    """Throughput in megabits per second, as people read speed tests."""
    if bytes_per_s is None:
        return "—"
    # the same double as `* 8 / 1_000_000`, in one step
    return f"{_whole(bytes_per_s / 125_000)} Mbit/s"


def ms(value: float | None) -> str:
    return "—" if value is None else f"{_whole(value)} ms"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else value.astimezone(UTC)


# Both written out rather than with strftime: they run for every time shown in a table
# (twice as fast), and "%b" would follow the machine's locale.
def date_text(value: datetime | None) -> str:
    """2 Dec 2026, in UTC."""
    if value is None:
        return "—"
    value = _utc(value)
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def day_text(value: date, *, year: bool = True) -> str:
    """2 Dec 2026, or 2 Dec without the year: a day as pages write it (as `date_text`, not
    strftime: a server page writes four)."""
    text = f"{value.day} {_MONTHS[value.month - 1]}"
    return f"{text} {value.year}" if year else text


# Two-digit fields from a table: a format spec per field made `iso` three times slower
# (it runs for every <time> of every table).
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))


def iso(value: datetime | date | None) -> str:
    """2026-12-02T04:05:06Z: W3C date-time in UTC, as sitemaps and <time> want it; a date
    (a day, not a time) as 2026-12-02."""
    if value is None:
        return ""
    if type(value) is date:
        return value.isoformat()
    value = _utc(value)
    two = _TWO_DIGITS
    return (
        f"{value.year:04d}-{two[value.month]}-{two[value.day]}"
        f"T{two[value.hour]}:{two[value.minute]}:{two[value.second]}Z"
    )


def numbered(items: Iterable[Any], start: int = 1) -> enumerate[Any]:
    """`(1, item), (2, item), ...`: a table's row numbers without Jinja's `loop` object,
    which costs a microsecond a row (most of a plain row's time)."""
    return enumerate(items, start)


def percent(fraction: float) -> str:
    """0.973 as 97% (rounded half to even, as "%.0f" rounds)."""
    return f"{fraction * 100:.0f}%"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def json_ld(value: Mapping[str, Any]) -> Markup:
    """A JSON-LD block body, safe inside <script>: '<' escaped so no '</script>' can appear."""
    text = json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def breadcrumb_list(crumbs: Any, base_url: str) -> dict[str, Any]:
    """BreadcrumbList JSON-LD for a page's breadcrumbs."""
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": c.name, "item": base_url + c.url}
            for i, c in enumerate(crumbs, start=1)
        ],
    }


def escape_output(value: Any) -> str:
    """What `{{ value }}` writes: the same text as markupsafe's `escape`, as a plain string.

    `escape` wraps every value in a `Markup`, whose constructor is Python code: a tenth of
    all render time. A value written into the page is only joined into it, so it needs no
    wrapper (Jinja itself marks joined output as `Markup` where it is captured: macros,
    `{% set %}` and filter blocks). Numbers hold nothing to escape.
    """
    kind = type(value)
    if kind is str:
        return _escape_inner(value)
    if kind is int or kind is float:
        return str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape_inner(str(value))


# What a plain dict has as attributes: for any other name, `row.name` can only be the item.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _OutputCodeGenerator(CodeGenerator):
    """Jinja's code generator, with the commonest steps of page code written inline: text
    escaped as `escape_output` escapes it, and a plain dict's key read as
    `DataEnvironment.getattr` reads it. Each was a Python call for every `{{ }}` (or
    every `row.name`) of every page; inline, pages render in a tenth less time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._temporaries = 0  # names for the values inline code tests, then uses
        self._escaped: list[str] = []

    def _temporary(self, prefix: str) -> str:
        self._temporaries += 1
        return f"{prefix}{self._temporaries}"

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        self.writeline("from markupsafe import _escape_inner as escape_text")
        super().visit_Template(node, frame)

    def _output_child_pre(self, node: Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile and finalize.src is None:
            name = self._temporary("_out")
            self._escaped.append(name)
            self.write(f"(escape_text({name}) if type({name} := ")
        else:
            self._escaped.append("")
            super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: Expr, frame: Frame, finalize: Any) -> None:
        name = self._escaped.pop()
        if name:
            self.write(f") is str else environment.escape_output({name}))")
        else:
            super()._output_child_post(node, frame, finalize)

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        if self.environment.is_async or node.attr in _DICT_ATTRIBUTES:
            super().visit_Getattr(node, frame)
            return
        name, key = self._temporary("_row"), repr(node.attr)
        self.write(f"({name}[{key}] if type({name} := ")
        self.visit(node.node, frame)
        self.write(f") is dict and {key} in {name} else environment.getattr({name}, {key}))")

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        """Text and expressions between two tags as one `yield` of their join, where Jinja
        yields each piece: a table row was a dozen generator round trips, one per piece."""
        if frame.buffer is not None or frame.require_output_check:
            super().visit_Output(node, frame)  # captured output, or an unknown `extends`
            return
        finalize = self._make_finalize()
        body: list[list[Any] | nodes.Expr] = []  # runs of constant text, and expressions
        for child in node.nodes:  # constants folded at compile time, as Jinja does
            try:
                if not (finalize.const or isinstance(child, nodes.TemplateData)):
                    raise nodes.Impossible()
                const = self._output_child_to_const(child, frame, finalize)
            except (nodes.Impossible, Exception):
                body.append(child)
                continue
            if body and isinstance(body[-1], list):
                body[-1].append(const)
            else:
                body.append([const])
        if len(body) < 2:
            super().visit_Output(node, frame)  # one piece: a plain `yield`
            return
        self.writeline("yield ''.join((")
        self.indent()
        for item in body:
            if isinstance(item, list):
                self.writeline(self._output_const_repr(item) + ",")
            else:
                self.newline(item)
                self._output_child_pre(item, frame, finalize)
                self.visit(item, frame)
                self._output_child_post(item, frame, finalize)
                self.write(",")
        self.outdent()
        self.writeline("))")


class DataEnvironment(Environment):
    """Jinja's environment, with `row.name` on a plain dict looked up as the item directly.

    Jinja prefers the attribute, so for a dict key it first raises and catches an
    AttributeError: that was 12 % of all render time, since page data is dicts. The result
    is the same: a name that dict itself has (`items`, `get`, ...) still means the method.
    Output is escaped by `escape_output`.
    """

    code_generator_class = _OutputCodeGenerator
    escape_output = staticmethod(escape_output)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def make_environment(templates_dir: Path, globals_: Mapping[str, Any]) -> Environment:
    environment = DataEnvironment(
        loader=FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        # A plain dict of compiled templates: a build's template set is fixed, and Jinja's
        # default LRU cache locks and reorders itself on every include of every page.
        cache_size=-1,
    )
    filters: dict[str, Callable[..., Any]] = {
        "usd": usd,
        "instance_size": instance_size,
        "mbps": mbps,
        "ms": ms,
        "date": date_text,
        "day": day_text,
        "iso": iso,
        "percent": percent,
        "numbered": numbered,
        "json_ld": json_ld,
    }
    environment.filters.update(filters)
    environment.globals["breadcrumb_list"] = breadcrumb_list
    environment.globals.update(globals_)
    return environment


def compile_templates(environment: Environment, folders: tuple[str, ...]) -> None:
    """Compile every page template under `folders` now, into the environment's cache.

    Done before forking the render workers: each inherits them compiled, instead of each
    compiling the same templates again (about a fifth of a second per process).
    """
    for name in environment.list_templates(
        filter_func=lambda name: name.endswith(".html") and name.startswith(folders)
    ):
        try:
            environment.get_template(name)
        except TemplateSyntaxError as error:
            raise SiteBuilderError(
                f"template {error.name or name}, line {error.lineno}: {error.message}"
            ) from None


def minify(html: str) -> str:
    """Whitespace, optional quotes and closing tags' spacing removed (tags kept closed)."""
    return minify_html.minify(
        html,
        minify_css=True,
        minify_js=True,
        keep_closing_tags=True,
        keep_html_and_head_opening_tags=True,
    )
