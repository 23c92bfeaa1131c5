"""One module per cloudgpus page kind, named as in `sites.toml`'s `page_kinds`."""
