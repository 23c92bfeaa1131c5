"""The probe node: real tunnels in network namespaces, measurements through them, and
signed batches in a local spool (docs/probe.md).

- `netns`: the namespaces; `tunnels`: WireGuard and OpenVPN inside them;
- `measure`: the steps run inside a namespace (latency, LibreSpeed download/upload, fetch);
- `latency`, `streaming`: pure figures and the streaming heuristics;
- `run`: a whole run to one validated, signed, spooled batch; `plan`: which servers are due;
- `speedserver`: a LibreSpeed-protocol backend; `relay`: a UDP impairment relay (tests, bench);
- `config`: the node's configuration and secrets; `spool`: the local spool (shared with the
  server agent).
"""
