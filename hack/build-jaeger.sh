#!/usr/bin/env bash
# Builds Jaeger v2 (cmd/jaeger of github.com/jaegertracing/jaeger, see hack/jaeger/go.mod)
# into $PODTRACE_CACHE/bin/jaeger-<version>. A no-op when it is there.
# The UI is not embedded (the module ships only a placeholder page); the HTTP/gRPC
# query APIs (/api/v3/..., /api/traces/...) work all the same.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

if [ -x "$JAEGER_BIN_DIR/jaeger" ]; then log "jaeger $JAEGER_VERSION: already built in $JAEGER_BIN_DIR"; exit 0; fi
command -v go >/dev/null || die "go is not installed: it comes with the machine image"
mkdir -p "$JAEGER_BIN_DIR"
cd "$HACK_DIR/jaeger"
start=$(date +%s)
log "building jaeger $JAEGER_VERSION"
CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_VERSION" \
  -o "$JAEGER_BIN_DIR/jaeger.tmp" github.com/jaegertracing/jaeger/cmd/jaeger
mv "$JAEGER_BIN_DIR/jaeger.tmp" "$JAEGER_BIN_DIR/jaeger"
log "jaeger $JAEGER_VERSION built in $(( $(date +%s) - start ))s: $JAEGER_BIN_DIR"
