"""The DNS leak test's authoritative nameserver.

A browser resolves random names under a zone delegated to this server; the server records
which resolver asked for which test id, and the tools function reads those records over a
small HTTP API guarded by a shared secret. Netlify cannot answer UDP/53, so this one piece
runs on a small server of its own (docs/tools.md).
"""
