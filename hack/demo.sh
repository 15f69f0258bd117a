#!/usr/bin/env bash
# The demo, on a fresh machine: installs what is missing, builds podtrace and
# traces `podtrace create nginx` (or the arguments given). Without a cluster
# of your own (--kubeconfig, or KUBECONFIG), it brings the local cluster up
# first (needs root) and points podtrace at it.
#   bash hack/demo.sh                       # podtrace create nginx on the local cluster
#   bash hack/demo.sh create podtrace/slow-ready --readiness http:8080/ready
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO_DIR"

"$HACK_DIR/setup.sh" >&2
use_node
npm run --silent build >&2

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(create nginx)
has_kubeconfig=
for a in "${args[@]}"; do case "$a" in --kubeconfig|--kubeconfig=*) has_kubeconfig=1 ;; esac; done
if [ -z "$has_kubeconfig" ] && [ -z "${KUBECONFIG:-}" ]; then
  kubeconfig=$(bash "$HACK_DIR/cluster.sh" up | tail -n 1)
  args+=(--kubeconfig "$kubeconfig")
  log "using the local cluster: $kubeconfig (take it down with: bash hack/cluster.sh down)"
fi
exec node "$REPO_DIR/bin/podtrace.js" "${args[@]}"
