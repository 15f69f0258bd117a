#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy
# and kubectl from the k8s.io/kubernetes Go module (see hack/k8s/go.mod) into
# $PODTRACE_CACHE/bin/kubernetes-<version>. A no-op when they are all there.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

missing=()
for c in "${COMMANDS[@]}"; do [ -x "$K8S_BIN_DIR/$c" ] || missing+=("$c"); done
if [ ${#missing[@]} -eq 0 ]; then log "kubernetes $K8S_VERSION: already built in $K8S_BIN_DIR"; exit 0; fi

command -v go >/dev/null || die "go is not installed: run hack/setup.sh first"
mkdir -p "$K8S_BIN_DIR"
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
pkgs=(k8s.io/client-go/pkg/version k8s.io/component-base/version)
ldflags="-s -w"
for p in "${pkgs[@]}"; do
  ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done

cd "$HACK_DIR/k8s"
start=$(date +%s)
for c in "${missing[@]}"; do
  log "building $c $K8S_VERSION (cold builds take a while on two cores)"
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$K8S_BIN_DIR/$c.tmp" "k8s.io/kubernetes/cmd/$c"
  mv "$K8S_BIN_DIR/$c.tmp" "$K8S_BIN_DIR/$c"
done
log "kubernetes $K8S_VERSION built in $(( $(date +%s) - start ))s: $K8S_BIN_DIR"
