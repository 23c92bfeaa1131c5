#!/usr/bin/env bash
# Install a site_builder probe node on Debian or Ubuntu (run as root from a checkout):
#   sudo bash scripts/probe/install-probe.sh
# Installs the VPN tools, the project in /opt/site-builder/.venv, the systemd units, and an
# example configuration in /etc/site-builder/ (left alone if one is there). See docs/probe.md.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces need it)"; exit 1; }
[ -e /dev/net/tun ] || { echo "/dev/net/tun is missing: this host cannot run tunnels"; exit 1; }
here="$(cd "$(dirname "$0")/../.." && pwd)"

apt-get update -qq
apt-get install -y -qq python3 python3-venv wireguard-tools wireguard-go openvpn iproute2 \
  iputils-ping ca-certificates >/dev/null

mkdir -p /opt/site-builder
cp -a "$here/." /opt/site-builder/
python3 -m venv /opt/site-builder/.venv
/opt/site-builder/.venv/bin/pip install -q -e /opt/site-builder

install -d -m 0755 /etc/site-builder
install -d -m 0700 /etc/site-builder/probe-secrets
[ -e /etc/site-builder/probe.toml ] || install -m 0644 "$here/scripts/probe/probe.example.toml" /etc/site-builder/probe.toml
[ -e /etc/site-builder/probe.env ] || install -m 0600 /dev/null /etc/site-builder/probe.env
install -m 0755 "$here/scripts/probe/probe-cycle.sh" /opt/site-builder/probe-cycle.sh
install -m 0644 "$here/scripts/probe/site-builder-probe.service" /etc/systemd/system/
install -m 0644 "$here/scripts/probe/site-builder-probe.timer" /etc/systemd/system/
systemctl daemon-reload
echo "Now: put probe.key and the tunnel secrets in /etc/site-builder/probe-secrets/ (mode 0600),"
echo "the targets in /etc/site-builder/probe.toml, the exchange settings in probe.env, then"
echo "  systemctl enable --now site-builder-probe.timer"
