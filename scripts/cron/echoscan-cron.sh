#!/usr/bin/env bash
# Cron wrapper: runs one pipeline, appends its output to a dated log, keeps the last 14 logs,
# and exits with echoscan's status (0 ok, 1 error or failed audit, 3 partial) so cron mail and
# monitoring see failures. metrics.prom in the output directory feeds node_exporter.
# Usage: echoscan-cron.sh PIPELINE.yaml [LOG_DIR]
set -uo pipefail
PIPELINE="$1"
LOGS="${2:-/var/log/echoscan}"
ECHOSCAN="${ECHOSCAN:-echoscan}"
mkdir -p "$LOGS"
name=$(basename "$PIPELINE" .yaml)
log="$LOGS/$name-$(date -u +%Y%m%dT%H%M%SZ).log"
{
  echo "== $(date -u +%FT%TZ) $ECHOSCAN run $PIPELINE"
  "$ECHOSCAN" run "$PIPELINE"
  status=$?
  echo "== $(date -u +%FT%TZ) exit $status"
  exit $status
} >"$log" 2>&1
status=$?
ls -1t "$LOGS/$name-"*.log 2>/dev/null | tail -n +15 | xargs -r rm -f
exit $status
