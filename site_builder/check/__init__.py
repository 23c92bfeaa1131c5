"""The check stage: refuses to publish output that is broken."""

from site_builder.check.links import LinkProblem, check_links

__all__ = ["LinkProblem", "check_links"]
