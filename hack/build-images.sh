#!/usr/bin/env bash
# Builds the OCI images the local cluster serves, without any Docker engine:
#   pause             from build/pause/linux/pause.c inside the k8s.io/kubernetes module
#   library/nginx     real nginx from Debian's nginx-light package (debootstrap)
#   podtrace/crash    exits 1 at once
#   podtrace/slow-ready  /ready answers 200 only after $READY_AFTER seconds
#   podtrace/big      the slow-ready server plus 2 x 120 MiB of incompressible layers
#   podtrace/reach    create --expose's in-cluster vantage point (hack/images/reach)
#   podtrace/podtrace podtrace itself (push-podtrace, from the current bundle: the e2e tests push it)
#   podtrace/coredns, podtrace/metrics-server  the cluster's add-ons, from the Go modules
#                     pinned in hack/coredns and hack/metrics-server
# Each image is an OCI layout under $PODTRACE_CACHE/images/<name>-<recipe hash>,
# where the hash covers the recipe (the shell function) and its source files:
# an unchanged recipe is never rebuilt.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

IMAGES_DIR="$PODTRACE_CACHE/images"
PAUSE_TAG=3.10.1
DEBIAN_MIRROR=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' \
  /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true)}
: "${DEBIAN_MIRROR:=http://deb.debian.org/debian}"

recipe_key() { # name, extra files...
  local fn=$1 f; shift
  for f in "$@"; do [ -f "$f" ] || die "image recipe $fn: source $f is missing (run hack/build-kubernetes.sh first)"; done
  { declare -f "$fn"; [ $# -eq 0 ] || cat "$@"; } | sha256sum | cut -c1-12
}

# Runs a recipe into a fresh OCI layout, atomically: a half-built image never
# looks finished to the next run.
build_image() { # name, recipe function, extra files...
  local name=$1 fn=$2; shift 2
  local dir="$IMAGES_DIR/$name-$(recipe_key "$fn" "$@")"
  if [ -f "$dir/done" ]; then echo "$dir"; return; fi
  log "image $name: building into $dir"
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  ( cd "$dir.tmp" && umoci init --layout oci >/dev/null && umoci new --image oci:img && "$fn" )
  rm -rf "$dir.tmp/bundle"
  touch "$dir.tmp/done"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  echo "$dir"
}

unpack() { umoci unpack --image oci:img bundle >/dev/null; }
repack() { umoci repack --refresh-bundle --image oci:img bundle; }

# Inside the module hack/build-kubernetes.sh downloads: its content keys the image.
PAUSE_SRC="$GOMODCACHE/k8s.io/kubernetes@$K8S_VERSION/build/pause/linux/pause.c"

pause_recipe() {
  unpack
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_TAG" -o bundle/rootfs/pause "$PAUSE_SRC"
  repack
  umoci config --image oci:img --config.entrypoint /pause --config.user 65535:65535
}

nginx_recipe() {
  unpack
  rmdir bundle/rootfs
  debootstrap --variant=minbase --include=nginx-light bookworm bundle/rootfs "$DEBIAN_MIRROR" >debootstrap.log 2>&1 \
    || die "debootstrap failed (see $PWD/debootstrap.log)"
  rm -f debootstrap.log
  rm -rf bundle/rootfs/var/cache/apt/archives/*.deb bundle/rootfs/var/lib/apt/lists/*
  # Like the nginx images people pull: logs go to the container's stdout/stderr.
  ln -sf /dev/stdout bundle/rootfs/var/log/nginx/access.log
  ln -sf /dev/stderr bundle/rootfs/var/log/nginx/error.log
  echo '<html><body><h1>nginx, served by podtrace local cluster</h1></body></html>' \
    > bundle/rootfs/var/www/html/index.html
  repack
  umoci config --image oci:img --config.cmd nginx --config.cmd -g --config.cmd 'daemon off;' \
    --config.exposedports 80/tcp --config.stopsignal SIGQUIT
}

crash_recipe() {
  unpack
  gcc -Os -static -o bundle/rootfs/crash "$HACK_DIR/images/crash/crash.c"
  repack
  umoci config --image oci:img --config.entrypoint /crash
}

build_slow_ready_binary() { # destination
  ( cd "$HACK_DIR/images/slow-ready" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$1" . )
}

slow_ready_recipe() {
  unpack
  build_slow_ready_binary "$PWD/bundle/rootfs/slow-ready"
  repack
  umoci config --image oci:img --config.entrypoint /slow-ready --config.env READY_AFTER=10 \
    --config.env PORT=8080 --config.exposedports 8080/tcp
}

big_recipe() {
  unpack
  build_slow_ready_binary "$PWD/bundle/rootfs/slow-ready"
  repack
  mkdir -p bundle/rootfs/data
  for i in 1 2; do # two layers, so the pull shows layer-parallel behaviour too
    head -c 120M /dev/urandom > "bundle/rootfs/data/blob-$i"
    repack
  done
  umoci config --image oci:img --config.entrypoint /slow-ready --config.env READY_AFTER=0 \
    --config.env PORT=8080 --config.exposedports 8080/tcp
}

reach_recipe() {
  local dest=$PWD/bundle/rootfs/reach
  unpack
  ( cd "$HACK_DIR/images/reach" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dest" . )
  repack
  umoci config --image oci:img --config.entrypoint /reach --config.user 65534:65534
}

# podtrace itself, to run in a pod: the Node 24 runtime setup.sh installed, the shared
# libraries it links (from this Debian host), and the built bundle; no shell, no package
# manager, a numeric non-root user. Built from the bundle as it is now (npm run build first).
podtrace_recipe() {
  local root=bundle/rootfs node lib
  node=$(command -v node)
  unpack
  install -D -m 0755 "$node" "$root/usr/local/bin/node"
  for lib in $(ldd "$node" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
  done
  mkdir -p "$root/app" "$root/tmp" "$root/etc"
  cp -r "$REPO_DIR/dist" "$REPO_DIR/bin" "$REPO_DIR/package.json" "$root/app/"
  chmod 1777 "$root/tmp"
  echo 'podtrace:x:65532:65532::/tmp:/nonexistent' > "$root/etc/passwd"
  echo 'podtrace:x:65532:' > "$root/etc/group"
  repack
  umoci config --image oci:img --config.entrypoint /usr/local/bin/node --config.entrypoint /app/bin/podtrace.js \
    --config.user 65532:65532 --config.workingdir /tmp --config.env HOME=/tmp
}

# Builds podtrace's image from the current bundle and pushes it as podtrace/podtrace:VERSION.
push_podtrace() { # registry host:port
  local version dir
  [ -f "$REPO_DIR/dist/cli.js" ] || die "dist/cli.js is missing: run npm run build first"
  version=$(node -p 'require(process.argv[1]).version' "$REPO_DIR/package.json")
  # shellcheck disable=SC2046
  dir=$(build_image podtrace-podtrace podtrace_recipe $(find "$REPO_DIR/dist" "$REPO_DIR/bin" -type f | sort) "$REPO_DIR/package.json" "$(command -v node)")
  skopeo copy --quiet --dest-tls-verify=false "oci:$dir/oci:img" "docker://$1/podtrace/podtrace:$version"
  echo "podtrace/podtrace:$version"
}

build_go_module() { # module dir under hack/, package, destination
  ( cd "$HACK_DIR/$1" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w ${4:-}" -o "$3" "$2" )
}

coredns_recipe() {
  unpack
  build_go_module coredns . "$PWD/bundle/rootfs/coredns"
  repack
  umoci config --image oci:img --config.entrypoint /coredns --config.cmd -conf \
    --config.cmd /etc/coredns/Corefile --config.exposedports 53/udp --config.exposedports 53/tcp
}

metrics_server_recipe() {
  local v=k8s.io/client-go/pkg/version
  unpack
  build_go_module metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server \
    "$PWD/bundle/rootfs/metrics-server" "-X $v.gitVersion=$METRICS_SERVER_VERSION -X $v.buildDate=1970-01-01T00:00:00Z"
  repack
  umoci config --image oci:img --config.entrypoint /metrics-server --config.user 65534:65534 \
    --config.exposedports 10250/tcp
}

# name in the registry | recipe | source files the recipe reads
IMAGE_TABLE=(
  "library/nginx:latest|nginx_recipe|"
  "podtrace/crash:latest|crash_recipe|$HACK_DIR/images/crash/crash.c"
  "podtrace/slow-ready:latest|slow_ready_recipe|$HACK_DIR/images/slow-ready/main.go"
  "podtrace/big:latest|big_recipe|$HACK_DIR/images/slow-ready/main.go"
  "podtrace/reach:1|reach_recipe|$HACK_DIR/images/reach/main.go $HACK_DIR/images/reach/go.mod"
  "podtrace/coredns:$COREDNS_VERSION|coredns_recipe|$HACK_DIR/coredns/main.go $HACK_DIR/coredns/go.mod $HACK_DIR/coredns/go.sum"
  "podtrace/metrics-server:$METRICS_SERVER_VERSION|metrics_server_recipe|$HACK_DIR/metrics-server/go.mod $HACK_DIR/metrics-server/go.sum"
)

layout_for() { # ref -> OCI layout dir (built when missing)
  local ref=$1 row name fn files
  for row in "${IMAGE_TABLE[@]}" "pause:$PAUSE_TAG|pause_recipe|$PAUSE_SRC"; do
    IFS='|' read -r name fn files <<<"$row"
    [ "$name" = "$ref" ] || continue
    # shellcheck disable=SC2086
    build_image "$(echo "${name%%:*}" | tr / -)" "$fn" $files
    return
  done
  die "no recipe for image $ref"
}

# Pushes every image into the registry at $1 (host:port) unless this exact
# build is there already; the stamp lives beside the registry's storage.
push_all() {
  local registry=$1 storage=$2 row name fn files dir stamp
  for row in "${IMAGE_TABLE[@]}"; do
    IFS='|' read -r name fn files <<<"$row"
    dir=$(layout_for "$name")
    stamp="$storage/.pushed/$(echo "$name" | tr /: --)-$(basename "$dir")"
    [ -f "$stamp" ] && continue
    log "registry: pushing $name"
    skopeo copy --quiet --dest-tls-verify=false "oci:$dir/oci:img" "docker://$registry/$name"
    mkdir -p "$storage/.pushed"; touch "$stamp"
  done
}

# Writes the pause image as a docker-archive named registry.k8s.io/pause:TAG
# for `ctr images import`.
pause_archive() { # destination file
  local dir; dir=$(layout_for "pause:$PAUSE_TAG")
  rm -f "$1"
  skopeo copy --quiet "oci:$dir/oci:img" "docker-archive:$1:registry.k8s.io/pause:$PAUSE_TAG"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-build}" in
    build) for row in "${IMAGE_TABLE[@]}" "pause:$PAUSE_TAG|pause_recipe|$PAUSE_SRC"; do layout_for "${row%%|*}" >/dev/null; done ;;
    push) push_all "${2:?registry host:port}" "${3:?registry storage dir}" ;;
    pause-archive) pause_archive "${2:?destination file}" ;;
    push-podtrace) push_podtrace "${2:?registry host:port}" ;;
    *) die "usage: build-images.sh [build | push HOST:PORT STORAGE | pause-archive FILE | push-podtrace HOST:PORT]" ;;
  esac
fi
