#!/usr/bin/env bash
# Builds the etcd server from go.etcd.io/etcd/server/v3 (see hack/etcd/go.mod)
# into $PODTRACE_CACHE/bin/etcd-<version>. A no-op when it is there.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

if [ -n "${PODTRACE_ETCD_BIN:-}" ]; then
  [ -x "$PODTRACE_ETCD_BIN" ] || die "PODTRACE_ETCD_BIN=$PODTRACE_ETCD_BIN is not an executable (apt-get install etcd-server gives /usr/bin/etcd)"
  log "etcd: using $PODTRACE_ETCD_BIN ($("$PODTRACE_ETCD_BIN" --version | head -n 1)), not building"; exit 0
fi
if [ -x "$ETCD_BIN_DIR/etcd" ]; then log "etcd $ETCD_VERSION: already built in $ETCD_BIN_DIR"; exit 0; fi
command -v go >/dev/null || die "go is not installed: it comes with the machine image"
mkdir -p "$ETCD_BIN_DIR"
cd "$HACK_DIR/etcd"
start=$(date +%s)
log "building etcd $ETCD_VERSION"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN_DIR/etcd.tmp" go.etcd.io/etcd/server/v3
mv "$ETCD_BIN_DIR/etcd.tmp" "$ETCD_BIN_DIR/etcd"
log "etcd $ETCD_VERSION built in $(( $(date +%s) - start ))s: $ETCD_BIN_DIR"
