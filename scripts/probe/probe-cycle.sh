#!/usr/bin/env bash
# One probe cycle: plan (when the store is reachable), run, publish. Used by
# site-builder-probe.service; SITE_BUILDER_EXCHANGE is the s3://bucket/prefix to publish to.
set -uo pipefail
cli=/opt/site-builder/.venv/bin/site-builder
config=${SITE_BUILDER_PROBE_CONFIG:-/etc/site-builder/probe.toml}
plan=()
if [ -n "${DATABASE_URL:-}" ]; then
  state=${STATE_DIRECTORY:-/var/lib/site-builder-probe}
  "$cli" probe plan --config "$config" --every-days "${PROBE_EVERY_DAYS:-7}" \
    --budget "${PROBE_BUDGET_S:-3000}" --output "$state/plan.json" && plan=(--plan "$state/plan.json")
fi
"$cli" probe run --config "$config" "${plan[@]}"
status=$?
# publish whatever is spooled, this run's batch and any an earlier failed publish left
"$cli" probe publish --config "$config" --destination "$SITE_BUILDER_EXCHANGE" || status=1
exit $status
