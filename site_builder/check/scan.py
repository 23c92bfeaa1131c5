"""One pass over the built HTML: each page's links, canonical URL, robots directive, title
and description."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import html

# (tag, attribute) pairs that point at other files of the site
REFERENCES = (
    ("a", "href"),
    ("link", "href"),
    ("script", "src"),
    ("img", "src"),
    ("source", "src"),
    ("form", "action"),
)


@dataclass(frozen=True)
class HtmlFacts:
    relative: str  # output-relative file, e.g. "gpus/h100-sxm/index.html"
    links: tuple[str, ...]
    canonical: str | None
    noindex: bool
    title: str = ""
    description: str = ""

    @property
    def url(self) -> str:
        """The site path the file is served at."""
        return "/" + self.relative.removesuffix("index.html")


def scan_html(root: Path) -> list[HtmlFacts]:
    facts = []
    for file in sorted(root.rglob("*.html")):
        document = html.fromstring(file.read_bytes())
        links = tuple(
            value.strip()
            for tag, attribute in REFERENCES
            for element in document.iter(tag)
            if (value := element.get(attribute)) is not None
        )
        canonical = document.xpath("//link[@rel='canonical']/@href")
        robots = " ".join(document.xpath("//meta[@name='robots']/@content")).lower()
        title = document.findtext(".//title") or ""
        description = document.xpath("//meta[@name='description']/@content")
        facts.append(
            HtmlFacts(
                relative=file.relative_to(root).as_posix(),
                links=links,
                canonical=canonical[0] if canonical else None,
                noindex="noindex" in robots,
                title=title.strip(),
                description=description[0].strip() if description else "",
            )
        )
    return facts
