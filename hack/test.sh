#!/usr/bin/env bash
# Runs every test on a fresh machine, as root: installs what is missing,
# builds, type-checks, runs the unit tests, brings the local cluster up, runs
# the end-to-end tests against it, then takes it down and checks that nothing
# is left behind. The cluster is taken down whatever happens. The last line
# counts the tests of all three projects: "N passed, N failed".
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO_DIR"

"$HACK_DIR/setup.sh"
use_node
log "node $(node --version), npm $(npm --version)"

RESULTS=$(mktemp -d)
STARTED=$(date +%s)

# One line over every project that ran (vitest's JSON report of each).
summary() {
  node -e '
    const fs = require("node:fs");
    let passed = 0, failed = 0;
    for (const f of fs.readdirSync(process.argv[1])) {
      const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${f}`, "utf8"));
      passed += r.numPassedTests;
      failed += r.numFailedTests;
      // a file that failed to load or in a hook has no failed test of its own: count it once
      failed += r.testResults.filter((t) => t.status === "failed" && !t.assertionResults.some((a) => a.status === "failed")).length;
    }
    console.log(`${passed} passed, ${failed} failed`);
  ' "$RESULTS" 2>/dev/null || echo "0 passed, 0 failed (no test ran)"
}

teardown() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -z "${PODTRACE_E2E_KUBECONFIG:-}" ]; then
    log "tests failed (exit $rc): taking the local cluster down"
    bash "$HACK_DIR/cluster.sh" down >/dev/null 2>&1 || true
  fi
  log "all tests took $(( $(date +%s) - STARTED ))s"
  summary
  rm -rf "$RESULTS"
  exit "$rc"
}
trap teardown EXIT

vitest_project() { # name
  npx vitest run --project "$1" --reporter=default --reporter=json --outputFile.json="$RESULTS/$1.json"
}

npm run --silent build
npx tsc --noEmit -p .
vitest_project unit
if [ -z "${PODTRACE_E2E_KUBECONFIG:-}" ]; then
  # from an empty cluster: a run killed before its teardown leaves its cluster's state (pods, a
  # stopped kubelet) that `up` would otherwise carry on with
  bash "$HACK_DIR/cluster.sh" down
  bash "$HACK_DIR/cluster.sh" up
fi
vitest_project e2e
if [ -z "${PODTRACE_E2E_KUBECONFIG:-}" ]; then
  # last: kills and restarts the cluster, then takes it down and checks what is left
  vitest_project lifecycle
fi
