#!/usr/bin/env bash
# Runs every test on a fresh machine, as root: installs what is missing,
# builds, type-checks, runs the unit tests, brings the local cluster up, runs
# the end-to-end tests against it, then takes it down and checks that nothing
# is left behind. The cluster is taken down whatever happens.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO_DIR"

"$HACK_DIR/setup.sh"
use_node
log "node $(node --version), npm $(npm --version)"

teardown() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -z "${PODTRACE_E2E_KUBECONFIG:-}" ]; then
    log "tests failed (exit $rc): taking the local cluster down"
    bash "$HACK_DIR/cluster.sh" down || true
  fi
  exit "$rc"
}
trap teardown EXIT

npm run --silent build
npx tsc --noEmit -p .
npx vitest run --project unit
if [ -z "${PODTRACE_E2E_KUBECONFIG:-}" ]; then
  bash "$HACK_DIR/cluster.sh" up
fi
npx vitest run --project e2e
if [ -z "${PODTRACE_E2E_KUBECONFIG:-}" ]; then
  # last: kills and restarts the cluster, then takes it down and checks what is left
  npx vitest run --project lifecycle
fi
