"""The batch exchange: producers (probes, agents) publish signed batches to S3-compatible
object storage; the nightly pull reads them back. See docs/probe-batches.md ("Sources").

- `settings.py`: settings from the environment and destinations (no boto3);
- `s3.py`: the boto3 client and object operations;
- `listing.py`: the listing model (shared with the HTTP(S) source);
- `publish.py`: `publish_spool` (a spool's pending batches, then the producer's listing),
  `prune_exchange` and `prune_sent` (retention);
- `fetch.py`: `fetch_new` (the pull: every listing, only batches the store lacks).

This module imports none of them, so the pull can import `fetch` without the spool (and the
probe package it lives in) coming along.
"""
