"""site_builder: a static site generator fed by a nightly data build.

The pipeline is pull -> build -> check -> deploy; each stage is a subpackage with a
narrow interface, and `site_builder.cli` is a thin click layer over them.
"""

__version__ = "0.1.0"
