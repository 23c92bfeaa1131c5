"""One module per bestvpnserver page kind, named as in `sites.toml`'s `page_kinds`."""
