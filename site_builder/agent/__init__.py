"""`site-builder agent run`: the agent on each VPN server (docs/agent.md).

`sample.py` reads CPU, memory and network load from /proc, `services.py` checks the
configured services, `run.py` averages samples into heartbeats, journals them, turns them
into signed batches in the spool and publishes them to the exchange.
"""
