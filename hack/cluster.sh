#!/usr/bin/env bash
# A real two-node Kubernetes cluster on this host, from upstream parts, in the spirit of
# Kubernetes' hack/local-up-cluster.sh and shaped like kind's default cluster: a control
# plane (podtrace-control-plane, left untainted so that it takes pods too) and a worker
# (podtrace-worker), each with its own containerd, kubelet, pod subnet and bridge; kube-proxy
# (iptables), CoreDNS and metrics-server. Everything listens on 127.0.0.1, except what must be
# reachable from pods: the API server and the kubelets, on the node addresses 192.0.2.10 and
# 192.0.2.11 (TEST-NET-1, on a local interface with no ports, never routed off the machine).
# Pods live on bridges without masquerading and without a default route (only the pod
# subnets, the Service range and the node addresses are routed), so nothing the cluster runs
# can send traffic off the machine.
#
#   cluster.sh up [--otlp-endpoint HOST:PORT|local|none]  start (idempotent); prints the kubeconfig path.
#                                               The API server and the kubelets export every span to
#                                               the local Jaeger (query API http://127.0.0.1:16686)
#                                               unless told another OTLP/gRPC endpoint, or none;
#                                               a changed endpoint restarts the API server and kubelets,
#                                               a changed kubelet configuration that kubelet
#   cluster.sh down                             stop what up started, unmount, remove state
#   cluster.sh status                           one line per component
#   cluster.sh restart COMPONENT [NODE]         registry|private-registry|jaeger|etcd|apiserver|controller-manager|
#                                               scheduler|kube-proxy, or containerd|kubelet of NODE (default: every node)
#   cluster.sh stop kubelet|containerd NODE     stop one node's part and leave it stopped (the node goes NotReady);
#                                               restart brings it back
#   cluster.sh rmi IMAGE [NODE]                 remove an image from NODE's runtime, or every node's (cold pulls in tests)
#   cluster.sh kubeconfig                       print the kubeconfig path
#
# All state is under $PODTRACE_STATE (default /var/lib/podtrace-cluster), a node's under
# nodes/NODE; binaries, images and the registry's storage are caches under $PODTRACE_CACHE.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

STATE=$PODTRACE_STATE
PKI=$STATE/pki
ETC=$STATE/etc
RUN=$STATE/run
LOGS=$STATE/logs
KUBECONFIG_PATH=$STATE/kubeconfig

# The nodes, side by side on this host as kind runs them side by side in containers: each has
# its own address, containerd (root, state, socket), pod subnet and bridge, CNI network,
# kubelet root, pod logs, cgroup root and healthz port (select_node). The host's network
# namespace is shared, so one kube-proxy programs Services for all of them.
NODES=(podtrace-control-plane podtrace-worker)
CONTROL_PLANE=${NODES[0]}
node_ip() { echo "192.0.2.$((10 + $1))"; } # by the node's index in NODES
NODE_IP=$(node_ip 0) # the control plane's address, where the API server listens too
NODE_IFACE=podtrace-node # holds every node address: a dummy device where the kernel has them, else a port-less bridge
CLUSTER_RANGE=198.18.0.0/16 # every address the cluster gives out: pods and Services
CLUSTER_CIDR=198.18.0.0/17 # every node's pod subnet is a /24 of it
SERVICE_CIDR=198.18.128.0/24
DNS_SERVICE_IP=198.18.128.10
API_PORT=6443
# The API server listens on the node address only (one --bind-address): pods reach it there,
# through the kubernetes Service, and so does every client on the host.
API_SERVER=https://$NODE_IP:$API_PORT
REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_STORAGE=$PODTRACE_CACHE/registry
# A second registry that wants a password nobody is given (it is thrown away
# at once): every pull from it fails unauthorized, as from a private registry
# without an imagePullSecret. It needs no images for that.
PRIVATE_REGISTRY_ADDR=127.0.0.1:5001
CGROUP_PARENT=podtrace # every node's cgroupRoot is below it, so every pod process is
CERTS_D=$STATE/containerd-certs.d # the registries' settings, the same for every node's containerd
# The API server stops listening at once on SIGTERM but its process can linger
# for many seconds after; everything it owns is in etcd by then.
APISERVER_GRACE=3
# The controller manager's and scheduler's API rate (requests per second; the burst is twice it).
# Their defaults (20 and 50) make a 10,000-pod rollout on kwok nodes take many minutes.
CONTROLLER_API_QPS=200
# etcd's space quota: a 50,000-pod rollout and its events outgrow the default 2 GiB.
ETCD_QUOTA_BYTES=$((8 * 1024 * 1024 * 1024))
# The kubelet's event rate limit, in events per second and as a burst. Not 0: the kubelet hands
# eventRecordQPS to client-go, which reads 0 as its default of 5 per second (eventBurst then
# 100), so a node starting 100 pods sent its Pulling/Pulled/Created/Started events a minute late
# (bench/peer.mjs). Far above what one node emits: in effect, never rate-limited.
KUBELET_EVENT_QPS=1000

# The local trace backend: Jaeger v2 with in-memory storage, everything on loopback.
JAEGER_BIN=$JAEGER_BIN_DIR/jaeger
JAEGER_OTLP=127.0.0.1:4317
JAEGER_QUERY=http://127.0.0.1:16686
# The API server and the kubelet batch their spans: export every 0.5 s rather than the SDK's
# 5 s, so that a trace is complete in Jaeger soon after the pod's start (kind keeps 5 s).
export OTEL_BSP_SCHEDULE_DELAY=500

# One node's process, as its pid file and log are named: node_part kubelet podtrace-worker -> kubelet-worker.
node_part() { echo "$1-${2#podtrace-}"; }

# Sets the N_* variables of one node: N (its name), N_SHORT, N_IP, N_SUBNET, N_GW, N_BRIDGE,
# N_DIR (its state), N_ETC (its configuration), N_SOCK (its containerd), N_CGROUP, N_HEALTHZ.
select_node() { # name
  local i found=
  for i in "${!NODES[@]}"; do [ "${NODES[i]}" = "$1" ] && { found=$i; break; }; done
  [ -n "$found" ] || die "unknown node '$1': one of ${NODES[*]}"
  N=$1; N_SHORT=${1#podtrace-}
  N_IP=$(node_ip "$found"); N_SUBNET=198.18.$found.0/24; N_GW=198.18.$found.1
  N_BRIDGE=podtrace$found
  N_DIR=$STATE/nodes/$1; N_ETC=$ETC/$1; N_SOCK=$N_DIR/containerd/containerd.sock
  N_CGROUP=/$CGROUP_PARENT/$N_SHORT; N_HEALTHZ=$((10248 + 100 * found))
  # The control plane pulls images in parallel (the tests start many pods at once); the worker
  # keeps the kubelet's default, one pull at a time, as kind's nodes do (a pull then waits for
  # another, which podtrace explains).
  N_SERIALIZE_PULLS=$([ "$found" = 0 ] && echo false || echo true)
}

NODE_COMPONENTS=()
for n in "${NODES[@]}"; do NODE_COMPONENTS+=("$(node_part containerd "$n")" "$(node_part kubelet "$n")"); done
COMPONENTS=(registry private-registry jaeger etcd apiserver controller-manager scheduler kube-proxy "${NODE_COMPONENTS[@]}")

# ---------------------------------------------------------------- processes

pidfile() { echo "$RUN/$1.pid"; }

# A pid file holds "PID EXE": a pid is ours only while /proc/PID/exe is still
# that binary, so a recycled pid is never signalled.
running_pid() {
  local f; f=$(pidfile "$1")
  [ -f "$f" ] || return 1
  local pid exe; read -r pid exe <"$f" || return 1
  [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] || return 1
  echo "$pid"
}

start_process() { # name binary args...
  local name=$1 bin=$2; shift 2
  if running_pid "$name" >/dev/null; then log "$name: already running"; return; fi
  mkdir -p "$RUN" "$LOGS"
  log "$name: starting"
  setsid "$bin" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo "$! $(readlink -f "$bin")" >"$(pidfile "$name")"
}

stop_process() { # name [seconds before SIGKILL]
  local name=$1 grace=${2:-15} pid
  if pid=$(running_pid "$name"); then
    log "$name: stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((grace * 10))); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  fi
  rm -f "$(pidfile "$name")"
}

wait_for() { # description seconds command...
  local what=$1 secs=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what (logs: $LOGS)"
    sleep 0.2
  done
}

# wait_for, but gives up at once, with the end of its log, when the
# component's process has exited.
wait_component() { # name description seconds command...
  local name=$1 what=$2 secs=$3; shift 3
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    if ! running_pid "$name" >/dev/null; then
      tail -n 5 "$LOGS/$name.log" | cut -c1-300 >&2
      die "$name exited while starting (log: $LOGS/$name.log)"
    fi
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what (log: $LOGS/$name.log)"
    sleep 0.2
  done
}

# A file's checksum, empty when it does not exist.
file_sum() { if [ -f "$1" ]; then sha256sum <"$1"; fi; }

http_ok() { curl -fsS --max-time 2 "$@" >/dev/null; }
kubectl_() { "$K8S_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }
ctr_() { ctr --address "$N_SOCK" --namespace k8s.io "$@"; } # after select_node

# ---------------------------------------------------------------- network

ensure_node_interface() {
  if ! ip link show "$NODE_IFACE" >/dev/null 2>&1; then
    ip link add "$NODE_IFACE" type dummy 2>/dev/null || ip link add "$NODE_IFACE" type bridge
  fi
  # `replace` is idempotent; a `show | grep -q` test is not under pipefail
  # (grep exiting first makes `ip` die of SIGPIPE, and the pipeline fail).
  local n
  for n in "${NODES[@]}"; do select_node "$n"; ip addr replace "$N_IP/32" dev "$NODE_IFACE"; done
  ip link set "$NODE_IFACE" up
  # Nothing bound to the cluster's addresses may take the machine's default route off it: the
  # range is unreachable but for the pod subnets (each bridge's own route, more specific) and the
  # Service range, routed to the port-less node device. A Service's packets are rewritten to a pod
  # by kube-proxy's rules before they get there; any other packet to a cluster IP (a Service not
  # programmed yet, an address nobody has) ends on that device or as unreachable, on this machine.
  ip route replace unreachable "$CLUSTER_RANGE"
  ip route replace "$SERVICE_CIDR" dev "$NODE_IFACE"
}

remove_network_devices() {
  local dev n
  for n in "${NODES[@]}"; do
    select_node "$n"
    for dev in $(ip -o link show master "$N_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip link del "$dev" 2>/dev/null || true
    done
    if ip link show "$N_BRIDGE" >/dev/null 2>&1; then ip link del "$N_BRIDGE"; fi
  done
  if ip link show "$NODE_IFACE" >/dev/null 2>&1; then ip link del "$NODE_IFACE"; fi
  ip route del unreachable "$CLUSTER_RANGE" 2>/dev/null || true
  remove_portmap_rules
}

# Deletes, by number (comments hold spaces), the rules of a chain whose text
# matches a pattern; prints the chain each deleted rule jumped to.
delete_rules() { # table chain pattern
  local lines i
  mapfile -t lines < <(iptables -t "$1" -S "$2" 2>/dev/null | tail -n +2)
  for (( i = ${#lines[@]}; i >= 1; i-- )); do
    [[ ${lines[i-1]} == *"$3"* ]] || continue
    iptables -t "$1" -D "$2" "$i" 2>/dev/null || true
    sed -n 's/.* -j \([^ ]*\).*/\1/p' <<<"${lines[i-1]}"
  done
}
delete_nat_rules() { delete_rules nat "$@"; }

# hostPort rules the portmap plugin leaves behind when pods die without a CNI
# DEL: only those of our networks (named after the nodes, "podtrace-..."); the shared
# CNI-HOSTPORT-* chains go only when nothing else is left in them.
remove_portmap_rules() {
  local chain top parent
  for chain in $(delete_nat_rules CNI-HOSTPORT-DNAT 'dnat name: \"podtrace-'); do
    case "$chain" in CNI-DN-*) iptables -t nat -F "$chain" 2>/dev/null; iptables -t nat -X "$chain" 2>/dev/null || true ;; esac
  done
  for top in CNI-HOSTPORT-DNAT CNI-HOSTPORT-SETMARK CNI-HOSTPORT-MASQ; do
    iptables -t nat -S "$top" >/dev/null 2>&1 || continue
    [ "$(iptables -t nat -S "$top" | wc -l)" -eq 1 ] || continue
    for parent in PREROUTING OUTPUT POSTROUTING; do delete_nat_rules "$parent" "-j $top" >/dev/null; done
    iptables -t nat -X "$top" 2>/dev/null || true
  done
}

# ---------------------------------------------------------------- pki

# Every identity the cluster uses: a client certificate per component, signed
# by one local CA (EC P-256 keys: quick to make, accepted everywhere).
make_cert() { # name subject extended-key-usage [subjectAltName [CA name]]
  local name=$1 subj=$2 eku=$3 san=${4:-} ca=${5:-ca}
  [ -f "$PKI/$name.crt" ] && return
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  { echo "extendedKeyUsage=$eku"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    [ -z "$san" ] || echo "subjectAltName=$san"; } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" -CAcreateserial \
    -days 3650 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
  chmod 600 "$PKI/$name.key"
}

make_ca() { # name common-name
  [ -f "$PKI/$1.crt" ] && return
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 3650 \
    -keyout "$PKI/$1.key" -out "$PKI/$1.crt" -subj "/CN=$2" 2>/dev/null
  chmod 600 "$PKI/$1.key"
}

ensure_pki() {
  mkdir -p "$PKI"; chmod 700 "$PKI"
  make_ca ca podtrace-local-ca
  # The aggregation layer's own CA: the API server proves with front-proxy-client that a
  # request it forwards to metrics-server comes from it (the request-header flags).
  make_ca front-proxy-ca podtrace-front-proxy-ca
  make_cert front-proxy-client "/CN=front-proxy-client" clientAuth "" front-proxy-ca
  local first_service_ip=${SERVICE_CIDR%.*}.1
  make_cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$NODE_IP,IP:$first_service_ip"
  make_cert admin "/O=system:masters/CN=podtrace-admin" clientAuth
  make_cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  make_cert scheduler "/CN=system:kube-scheduler" clientAuth
  make_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  make_cert kube-proxy "/CN=system:kube-proxy" clientAuth
  local n
  for n in "${NODES[@]}"; do
    select_node "$n"
    make_cert "kubelet-$N_SHORT" "/O=system:nodes/CN=system:node:$N" clientAuth
    # Its serving certificate, from the cluster CA: the API server (logs, exec) and
    # metrics-server verify it instead of trusting a self-signed one.
    make_cert "kubelet-serving-$N_SHORT" "/CN=$N" serverAuth "IP:$N_IP,DNS:$N"
  done
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
    chmod 600 "$PKI/sa.key"
  fi
}

# Component kubeconfigs name their files; the user's kubeconfig embeds its data
# so it can be copied elsewhere.
write_kubeconfig() { # file cert-name [embed]
  local file=$1 cert=$2 embed=${3:-}
  local ca="certificate-authority: $PKI/ca.crt" crt="client-certificate: $PKI/$cert.crt" key="client-key: $PKI/$cert.key"
  if [ -n "$embed" ]; then
    ca="certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")"
    crt="client-certificate-data: $(base64 -w0 <"$PKI/$cert.crt")"
    key="client-key-data: $(base64 -w0 <"$PKI/$cert.key")"
  fi
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: podtrace-local
  cluster:
    server: $API_SERVER
    $ca
users:
- name: $cert
  user:
    $crt
    $key
contexts:
- name: podtrace-local
  context:
    cluster: podtrace-local
    user: $cert
    namespace: default
current-context: podtrace-local
EOF
  chmod 600 "$file.tmp"; mv "$file.tmp" "$file"
}

# ---------------------------------------------------------------- configs

# Where the components send their spans: the local Jaeger unless `up --otlp-endpoint` said
# another endpoint, or none (remembered in $ETC/otlp-endpoint).
otlp_endpoint() {
  local set; set=$(cat "$ETC/otlp-endpoint" 2>/dev/null || true)
  case "$set" in
    '') echo "$JAEGER_OTLP" ;;
    none) ;;
    *) echo "$set" ;;
  esac
}

write_configs() {
  mkdir -p "$ETC" "$CERTS_D/docker.io"
  write_kubeconfig "$KUBECONFIG_PATH" admin embed
  write_kubeconfig "$ETC/controller-manager.kubeconfig" controller-manager
  write_kubeconfig "$ETC/scheduler.kubeconfig" scheduler
  write_kubeconfig "$ETC/kube-proxy.kubeconfig" kube-proxy

  cat >"$ETC/registry.yml" <<EOF
version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage:
  filesystem: { rootdirectory: $REGISTRY_STORAGE }
  delete: { enabled: true }
http: { addr: $REGISTRY_ADDR }
EOF

  [ -f "$ETC/private-registry.htpasswd" ] ||
    htpasswd -Bbn podtrace "$(openssl rand -hex 16)" >"$ETC/private-registry.htpasswd"
  cat >"$ETC/private-registry.yml" <<EOF
version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage:
  filesystem: { rootdirectory: $STATE/private-registry }
auth:
  htpasswd: { realm: podtrace-private, path: $ETC/private-registry.htpasswd }
http: { addr: $PRIVATE_REGISTRY_ADDR }
EOF
  mkdir -p "$CERTS_D/$PRIVATE_REGISTRY_ADDR"
  cat >"$CERTS_D/$PRIVATE_REGISTRY_ADDR/hosts.toml" <<EOF
server = "http://$PRIVATE_REGISTRY_ADDR"
[host."http://$PRIVATE_REGISTRY_ADDR"]
  capabilities = ["pull", "resolve"]
EOF

  # containerd pulls docker.io/* from the local registry: `nginx` is really pulled.
  cat >"$CERTS_D/docker.io/hosts.toml" <<EOF
server = "http://$REGISTRY_ADDR"
[host."http://$REGISTRY_ADDR"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
EOF
  # The node's resolver, for pods with dnsPolicy Default (CoreDNS's own): an address with no
  # server behind it, so no DNS query ever leaves the machine. Every other pod asks CoreDNS
  # (clusterDNS), which answers cluster.local and forwards nowhere.
  echo "nameserver $NODE_IP" >"$ETC/resolv.conf"

  # kube-proxy, iptables mode, for the whole host: Services route from the host and from every
  # pod. It listens on loopback only, serves NodePorts on the node address only, and leaves the
  # host's conntrack settings as they are (every limit and timeout 0: untouched).
  # kube-proxy exits when its configuration file changes: rewrite it only when its text does
  cat >"$ETC/kube-proxy.yaml.new" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $ETC/kube-proxy.kubeconfig }
hostnameOverride: $CONTROL_PLANE
mode: iptables
clusterCIDR: $CLUSTER_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
iptables: { localhostNodePorts: false }
oomScoreAdj: 0
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
  if cmp -s "$ETC/kube-proxy.yaml.new" "$ETC/kube-proxy.yaml"; then rm -f "$ETC/kube-proxy.yaml.new"
  else mv "$ETC/kube-proxy.yaml.new" "$ETC/kube-proxy.yaml"; fi

  # Audit only users in the group podtrace:audited (bench/api-cost.mjs counts
  # podtrace's requests with such a certificate); everyone else: nothing.
  cat >"$ETC/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    userGroups: ["podtrace:audited"]
  - level: None
EOF

  local otlp tracing_kubelet=""
  otlp=$(otlp_endpoint)
  rm -f "$ETC/apiserver-tracing.yaml"
  if [ -n "$otlp" ]; then
    printf 'apiVersion: apiserver.config.k8s.io/v1\nkind: TracingConfiguration\nendpoint: %s\nsamplingRatePerMillion: 1000000\n' \
      "$otlp" >"$ETC/apiserver-tracing.yaml"
    tracing_kubelet=$(printf 'tracing:\n  endpoint: %s\n  samplingRatePerMillion: 1000000' "$otlp")
  fi

  local n
  for n in "${NODES[@]}"; do write_node_configs "$n" "$tracing_kubelet"; done
}

# A pod's routes to every node address (metrics-server reads each kubelet), as CNI route entries.
node_routes() {
  local i
  for i in "${!NODES[@]}"; do printf ', { "dst": "%s/32" }' "$(node_ip "$i")"; done
}

# One node's containerd, CNI network and kubelet.
write_node_configs() { # node tracing-block
  select_node "$1"
  mkdir -p "$N_ETC" "$N_DIR/cni/net.d" "$N_DIR/kubelet" "$N_DIR/pod-logs"
  write_kubeconfig "$N_ETC/kubelet.kubeconfig" "kubelet-$N_SHORT"
  cat >"$N_ETC/containerd.toml" <<EOF
version = 2
root = "$N_DIR/containerd/root"
state = "$N_DIR/containerd/state"
[grpc]
  address = "$N_SOCK"
[ttrpc]
  address = "$N_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10.1"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  netns_mounts_under_state_dir = true
  # These VMs grant root no CAP_SYS_RESOURCE, so no process may lower its
  # oom_score_adj (the sandbox's default is -998): clamp to containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$N_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$N_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$CERTS_D"
EOF

  # portmap's DNAT matches any local address: each node's hostPorts answer on its own address
  # only (conditionsV4), so the same hostPort on two nodes does not collide.
  cat >"$N_DIR/cni/net.d/10-podtrace.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$N",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$N_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$N_DIR/cni/ipam",
        "ranges": [[{ "subnet": "$N_SUBNET" }]],
        "routes": [{ "dst": "$CLUSTER_CIDR" }, { "dst": "$SERVICE_CIDR" }$(node_routes)]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true }, "snat": false, "conditionsV4": ["-d", "$N_IP/32"] }
  ]
}
EOF

  cat >"$N_ETC/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $N_IP
port: 10250
readOnlyPort: 0
tlsCertFile: $PKI/kubelet-serving-$N_SHORT.crt
tlsPrivateKeyFile: $PKI/kubelet-serving-$N_SHORT.key
healthzBindAddress: 127.0.0.1
healthzPort: $N_HEALTHZ
cgroupDriver: cgroupfs
cgroupRoot: $N_CGROUP
failCgroupV1: false
failSwapOn: false
memorySwap: { swapBehavior: NoSwap }
eventRecordQPS: $KUBELET_EVENT_QPS
eventBurst: $KUBELET_EVENT_QPS
containerRuntimeEndpoint: unix://$N_SOCK
podLogsDir: $N_DIR/pod-logs
resolvConf: $ETC/resolv.conf
clusterDomain: cluster.local
clusterDNS: [$DNS_SERVICE_IP]
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization: { mode: Webhook }
serializeImagePulls: $N_SERIALIZE_PULLS
evictionHard: { memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%" }
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
$2
EOF
}

# ---------------------------------------------------------------- components

start_registry() {
  mkdir -p "$REGISTRY_STORAGE"
  start_process registry "$(command -v docker-registry)" serve "$ETC/registry.yml"
  wait_component registry "the registry on $REGISTRY_ADDR" 30 http_ok "http://$REGISTRY_ADDR/v2/"
  "$HACK_DIR/build-images.sh" push "$REGISTRY_ADDR" "$REGISTRY_STORAGE"
}

private_registry_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$PRIVATE_REGISTRY_ADDR/v2/")" = 401 ]; }

start_private_registry() {
  mkdir -p "$STATE/private-registry"
  start_process private-registry "$(command -v docker-registry)" serve "$ETC/private-registry.yml"
  wait_component private-registry "the private registry on $PRIVATE_REGISTRY_ADDR" 30 private_registry_up
}

jaeger_healthy() { http_ok http://127.0.0.1:13133/status; }

start_jaeger() {
  cat >"$ETC/jaeger.yaml" <<EOF
# Jaeger v2 for the local cluster: OTLP in, query APIs out, in memory, loopback only.
# No metrics listener and no jaeger/zipkin receivers, remote sampling, pprof or zpages:
# each would open a port, several on all interfaces.
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter] }
  telemetry:
    resource: { service.name: jaeger }
    metrics: { level: none }
    logs: { level: warn }
extensions:
  jaeger_storage:
    backends:
      memstore: { memory: { max_traces: 100000 } }
  jaeger_query:
    storage: { traces: memstore }
    enable_tracing: false
    http: { endpoint: ${JAEGER_QUERY#http://} }
    grpc: { endpoint: 127.0.0.1:16685 }
  healthcheckv2:
    use_v2: true
    http: { endpoint: 127.0.0.1:13133 }
receivers:
  otlp:
    protocols:
      grpc: { endpoint: $JAEGER_OTLP }
      http: { endpoint: 127.0.0.1:4318 }
processors:
  batch: {}
exporters:
  jaeger_storage_exporter: { trace_storage: memstore }
EOF
  start_process jaeger "$JAEGER_BIN" --config "file:$ETC/jaeger.yaml"
  wait_component jaeger "Jaeger on $JAEGER_QUERY" 60 jaeger_healthy
}

start_etcd() {
  start_process etcd "$ETCD_BIN" --name "$CONTROL_PLANE" --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$CONTROL_PLANE=http://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381 \
    --quota-backend-bytes "$ETCD_QUOTA_BYTES" --log-level warn
  wait_component etcd "etcd" 60 http_ok http://127.0.0.1:2381/health
}

start_containerd() { # node
  select_node "$1"
  start_process "containerd-$N_SHORT" "$(command -v containerd)" --config "$N_ETC/containerd.toml"
  wait_component "containerd-$N_SHORT" "$N's containerd" 60 ctr_ version
  local images
  images=$(ctr_ images ls -q)
  if ! grep -qx "registry.k8s.io/pause:3.10.1" <<<"$images"; then
    log "containerd-$N_SHORT: importing the pause image"
    "$HACK_DIR/build-images.sh" pause-archive "$N_DIR/pause.tar"
    ctr_ images import --no-unpack=false "$N_DIR/pause.tar" >/dev/null
    rm -f "$N_DIR/pause.tar"
  fi
}

apiserver_ready() { http_ok --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$API_SERVER/readyz"; }

start_apiserver() {
  local tracing=()
  [ -f "$ETC/apiserver-tracing.yaml" ] && tracing=(--tracing-config-file "$ETC/apiserver-tracing.yaml")
  start_process apiserver "$K8S_BIN_DIR/kube-apiserver" \
    --bind-address "$NODE_IP" --secure-port "$API_PORT" --advertise-address "$NODE_IP" \
    --etcd-servers http://127.0.0.1:2379 \
    --client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP --kubelet-certificate-authority "$PKI/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --event-ttl 1h --cert-dir "$STATE/apiserver" \
    --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --audit-policy-file "$ETC/audit-policy.yaml" --audit-log-path "$LOGS/audit.log" --audit-log-maxsize 50 --audit-log-maxbackup 1 \
    "${tracing[@]}"
  wait_component apiserver "kube-apiserver on $API_SERVER" 120 apiserver_ready
}

start_controller_manager() {
  start_process controller-manager "$K8S_BIN_DIR/kube-controller-manager" \
    --kubeconfig "$ETC/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$ETC/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$ETC/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --use-service-account-credentials=true --service-cluster-ip-range "$SERVICE_CIDR" \
    --controllers '*,-cloud-node-lifecycle-controller,-node-ipam-controller' \
    --kube-api-qps "$CONTROLLER_API_QPS" --kube-api-burst "$((CONTROLLER_API_QPS * 2))"
  wait_component controller-manager "kube-controller-manager" 60 http_ok -k https://127.0.0.1:10257/healthz
}

start_scheduler() {
  start_process scheduler "$K8S_BIN_DIR/kube-scheduler" \
    --kubeconfig "$ETC/scheduler.kubeconfig" \
    --authentication-kubeconfig "$ETC/scheduler.kubeconfig" \
    --authorization-kubeconfig "$ETC/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false \
    --kube-api-qps "$CONTROLLER_API_QPS" --kube-api-burst "$((CONTROLLER_API_QPS * 2))"
  wait_component scheduler "kube-scheduler" 60 http_ok -k https://127.0.0.1:10259/healthz
}

# cgroup v1: a kubelet's cgroupRoot must exist in every hierarchy it uses,
# and a new cpuset cgroup has no CPUs or memory nodes until given its parent's.
ensure_cgroup_root() { # path below the hierarchies' roots, e.g. /podtrace/worker
  local h d
  for h in /sys/fs/cgroup/*/; do
    [ "$(stat -f -c %T "$h")" = cgroupfs ] || continue
    d=${h%/}
    for part in ${1//\// }; do
      d=$d/$part
      mkdir -p "$d"
      if [ -f "$h/cpuset.cpus" ]; then
        cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
        cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
      fi
    done
  done
}

start_kubelet() { # node
  select_node "$1"
  ensure_cgroup_root "$N_CGROUP"
  start_process "kubelet-$N_SHORT" "$K8S_BIN_DIR/kubelet" \
    --config "$N_ETC/kubelet.yaml" --kubeconfig "$N_ETC/kubelet.kubeconfig" \
    --root-dir "$N_DIR/kubelet" --cert-dir "$N_DIR/kubelet/pki" \
    --hostname-override "$N" --node-ip "$N_IP" --v 2
  wait_component "kubelet-$N_SHORT" "$N's kubelet healthz" 60 http_ok "http://127.0.0.1:$N_HEALTHZ/healthz"
}

kube_proxy_healthy() { http_ok http://127.0.0.1:10256/healthz; }

start_kube_proxy() {
  start_process kube-proxy "$K8S_BIN_DIR/kube-proxy" --config "$ETC/kube-proxy.yaml"
  wait_component kube-proxy "kube-proxy's healthz" 60 kube_proxy_healthy
}

# Removes every rule and chain kube-proxy wrote (its own --cleanup), then the few the kubelet
# keeps (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT): once both are stopped.
remove_kube_rules() {
  if iptables -t nat -S KUBE-SERVICES >/dev/null 2>&1 || iptables -t filter -S KUBE-FORWARD >/dev/null 2>&1; then
    "$K8S_BIN_DIR/kube-proxy" --cleanup >>"$LOGS/kube-proxy.log" 2>&1 || true
  fi
  local table chain
  for table in filter nat mangle; do
    for chain in INPUT OUTPUT FORWARD PREROUTING POSTROUTING; do
      iptables -t "$table" -S "$chain" >/dev/null 2>&1 && delete_rules "$table" "$chain" "-j KUBE-" >/dev/null
    done
    for chain in $(iptables -t "$table" -S | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables -t "$table" -S | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

# CoreDNS and metrics-server, as Deployments from images the project builds (hack/addons/).
ADDON_IMAGES=(COREDNS_IMAGE=podtrace/coredns:$COREDNS_VERSION METRICS_SERVER_IMAGE=podtrace/metrics-server:$METRICS_SERVER_VERSION)

apply_addons() {
  local f applied
  applied=$(for f in "$HACK_DIR"/addons/*.yaml; do
    env "${ADDON_IMAGES[@]}" DNS_SERVICE_IP="$DNS_SERVICE_IP" \
      envsubst '$COREDNS_IMAGE $METRICS_SERVER_IMAGE $DNS_SERVICE_IP' <"$f"
    echo ---
  done | kubectl_ apply -f -)
  # CoreDNS reads its Corefile at start (no reload plugin): a changed one needs new pods
  if grep -qx 'configmap/coredns configured' <<<"$applied"; then
    log "CoreDNS: the Corefile changed, restarting its pods"
    kubectl_ -n kube-system rollout restart deployment/coredns >/dev/null
  fi
}

coredns_ready() { [ "$(kubectl_ -n kube-system get deploy coredns -o 'jsonpath={.status.readyReplicas}')" -ge 1 ]; }
metrics_api_available() {
  [ "$(kubectl_ get apiservice v1beta1.metrics.k8s.io -o 'jsonpath={.status.conditions[?(@.type=="Available")].status}')" = True ]
}

node_ready() { # node
  [ "$(kubectl_ get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

all_nodes_ready() { local n; for n in "${NODES[@]}"; do node_ready "$n" || return 1; done; }

# ---------------------------------------------------------------- teardown

# Everything mounted under a directory (pod rootfs overlays, shm, netns,
# projected volumes), deepest first.
mounts_under() { awk -v s="$1/" 'index($5, s) == 1 {print $5}' /proc/self/mountinfo | sort -r; }

cgroup_dirs() { # [path below $CGROUP_PARENT's hierarchies], deepest first
  local d
  for d in /sys/fs/cgroup/*/"${1:-/$CGROUP_PARENT}"; do [ -d "$d" ] && find "$d" -depth -type d; done
}

unix_sockets_of() { # pids...
  local pid fd link
  for pid in "$@"; do
    for fd in /proc/"$pid"/fd/*; do
      link=$(readlink "$fd" 2>/dev/null) || continue
      case "$link" in socket:*) awk -v i="${link//[^0-9]/}" '$7 == i && $8 != "" {print $8}' /proc/net/unix ;; esac
    done
  done | sort -u
}

# Stops every pod process and containerd shim of a node, then unmounts: what a
# killed kubelet/containerd leaves behind, and what `down` must remove.
clear_runtime_leftovers() { # node
  select_node "$1"
  local dir pid m
  for dir in $(cgroup_dirs "$N_CGROUP"); do
    for pid in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  # containerd 1.6 puts shim sockets in /run/containerd/s whatever its state
  # dir: find ours through the shims' open sockets before killing them.
  local shims sockets
  shims=$(pgrep -f "containerd-shim-runc-v2 .*-address $N_SOCK( |$)" || true)
  sockets=$(unix_sockets_of $shims | grep '^/run/containerd/s/' || true)
  for pid in $shims; do kill -KILL "$pid" 2>/dev/null || true; done
  for m in $sockets; do rm -f "$m"; done
  sleep 0.3
  for m in $(mounts_under "$N_DIR"); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  for dir in $(cgroup_dirs "$N_CGROUP"); do rmdir "$dir" 2>/dev/null || true; done
  rm -f "$N_SOCK" "$N_SOCK.ttrpc"
  # the kubelet links container logs from /var/log/containers into podLogsDir
  find /var/log/containers -maxdepth 1 -type l -lname "$N_DIR/*" -delete 2>/dev/null || true
}

# What is left once every node is cleared: the shared cgroup parent, and any mount under the state.
clear_all_runtime_leftovers() {
  local n m dir
  for n in "${NODES[@]}"; do clear_runtime_leftovers "$n"; done
  for m in $(mounts_under "$STATE"); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  for dir in $(cgroup_dirs); do rmdir "$dir" 2>/dev/null || true; done
}

# ---------------------------------------------------------------- commands

ensure_built() {
  "$HACK_DIR/build-kubernetes.sh"
  "$HACK_DIR/build-etcd.sh"
  "$HACK_DIR/build-jaeger.sh"
  "$HACK_DIR/build-images.sh" build
}

# The host tools `up` runs (hack/setup.sh installs them): say so at once, not deep in a build.
need_tools() {
  local missing=() t
  for t in containerd docker-registry skopeo umoci openssl curl; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: run bash hack/setup.sh first (it installs them)"
}

cmd_up() {
  need_root
  need_tools
  local otlp=${PODTRACE_OTLP_ENDPOINT:-}
  while [ $# -gt 0 ]; do
    case "$1" in
      --otlp-endpoint) otlp=${2:?--otlp-endpoint needs HOST:PORT, local or none}; shift 2 ;;
      --otlp-endpoint=*) otlp=${1#*=}; shift ;;
      *) die "up: unknown option $1 (see hack/cluster.sh --help)" ;;
    esac
  done
  local start; start=$(date +%s%N)
  ensure_built
  mkdir -p "$STATE" "$RUN" "$LOGS" "$ETC"
  # pid files of processes that are gone are stale: forget them
  local c n; for c in "${COMPONENTS[@]}"; do running_pid "$c" >/dev/null || rm -f "$(pidfile "$c")"; done
  # a killed runtime leaves pods, shims, mounts and sockets behind
  for n in "${NODES[@]}"; do running_pid "$(node_part containerd "$n")" >/dev/null || clear_runtime_leftovers "$n"; done
  # remembered for restarts and later ups: 'none' switches tracing off, 'local' back to the local Jaeger
  case "$otlp" in
    '') ;;
    local) rm -f "$ETC/otlp-endpoint" ;;
    *) echo "$otlp" >"$ETC/otlp-endpoint" ;;
  esac
  ensure_node_interface
  ensure_pki
  # A running API server and kubelet read their configuration (tracing included) at start only:
  # restart them when a changed endpoint, or a newer checkout, changed what they would read.
  local apiserver_before kubelets_before=() i
  apiserver_before=$(file_sum "$ETC/apiserver-tracing.yaml")
  for n in "${NODES[@]}"; do select_node "$n"; kubelets_before+=("$(file_sum "$N_ETC/kubelet.yaml")"); done
  write_configs
  if [ "$(file_sum "$ETC/apiserver-tracing.yaml")" != "$apiserver_before" ] && running_pid apiserver >/dev/null; then
    log "the API server's tracing changed (endpoint: '$(otlp_endpoint)'): restarting it"
    stop_process apiserver "$APISERVER_GRACE"
  fi
  for i in "${!NODES[@]}"; do
    select_node "${NODES[i]}"
    if [ "$(file_sum "$N_ETC/kubelet.yaml")" != "${kubelets_before[i]}" ] && running_pid "kubelet-$N_SHORT" >/dev/null; then
      log "$N: the kubelet's configuration changed: restarting it"
      stop_process "kubelet-$N_SHORT"
    fi
  done
  start_registry
  start_private_registry
  start_jaeger
  start_etcd
  for n in "${NODES[@]}"; do start_containerd "$n"; done
  start_apiserver
  start_controller_manager
  start_scheduler
  for n in "${NODES[@]}"; do start_kubelet "$n"; done
  start_kube_proxy
  wait_for "every node to be Ready (kubectl get nodes)" 120 all_nodes_ready
  # as kind marks its control plane; left untainted here, so that both nodes take pods
  kubectl_ label node "$CONTROL_PLANE" --overwrite node-role.kubernetes.io/control-plane= >/dev/null
  apply_addons
  wait_for "CoreDNS to be ready (kubectl -n kube-system get pods)" 120 coredns_ready
  wait_for "metrics.k8s.io to be available (kubectl get apiservice v1beta1.metrics.k8s.io)" 120 metrics_api_available
  wait_for "the default ServiceAccount" 60 kubectl_ get serviceaccount default -n default
  log "cluster up in $(( ($(date +%s%N) - start) / 1000000 ))ms"
  echo "$KUBECONFIG_PATH"
}

cmd_down() {
  need_root
  local n c
  stop_process kube-proxy
  for n in "${NODES[@]}"; do stop_process "$(node_part kubelet "$n")" 20; done
  remove_kube_rules
  for n in "${NODES[@]}"; do
    clear_runtime_leftovers "$n"
    stop_process "$(node_part containerd "$n")" 20
  done
  clear_all_runtime_leftovers
  for c in scheduler controller-manager; do stop_process "$c"; done
  stop_process apiserver "$APISERVER_GRACE"
  for c in etcd jaeger private-registry registry; do stop_process "$c"; done
  remove_network_devices
  # keep the logs of the last run for post-mortems; all else goes
  if [ -d "$STATE" ]; then
    find "$STATE" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  fi
  log "cluster down"
}

cmd_status() {
  local c pid all=0
  for c in "${COMPONENTS[@]}"; do
    if pid=$(running_pid "$c"); then printf '%-24s running (pid %s)\n' "$c" "$pid"
    else printf '%-24s stopped\n' "$c"; all=1; fi
  done
  if [ $all -eq 0 ] && all_nodes_ready; then echo "nodes ${NODES[*]} Ready; kubeconfig: $KUBECONFIG_PATH"
  else echo "cluster not ready"; return 3; fi
}

# The nodes a command acts on: the one named, or every node.
nodes_of() { # [node]
  if [ -n "${1:-}" ]; then select_node "$1"; echo "$1"; else printf '%s\n' "${NODES[@]}"; fi
}

cmd_restart() {
  need_root
  local c=${1:?restart needs a component: registry private-registry jaeger etcd apiserver controller-manager scheduler kube-proxy containerd kubelet}
  local node=${2:-} n
  case "$c" in
    containerd|kubelet) ;;
    *) [ -z "$node" ] || die "restart $c: only containerd and kubelet take a node" ;;
  esac
  case "$c" in
    registry) stop_process registry; start_registry ;;
    private-registry) stop_process private-registry; start_private_registry ;;
    jaeger) stop_process jaeger; start_jaeger ;;
    etcd) stop_process etcd; start_etcd ;;
    containerd) for n in $(nodes_of "$node"); do stop_process "$(node_part containerd "$n")"; start_containerd "$n"; done ;;
    apiserver) stop_process apiserver "$APISERVER_GRACE"; start_apiserver ;;
    controller-manager) stop_process controller-manager; start_controller_manager ;;
    scheduler) stop_process scheduler; start_scheduler ;;
    kubelet)
      for n in $(nodes_of "$node"); do stop_process "$(node_part kubelet "$n")"; start_kubelet "$n"; done
      for n in $(nodes_of "$node"); do wait_for "node $n to be Ready" 60 node_ready "$n"; done ;;
    kube-proxy) stop_process kube-proxy; start_kube_proxy ;;
    *) die "unknown component '$c': registry private-registry jaeger etcd apiserver controller-manager scheduler kube-proxy containerd kubelet" ;;
  esac
}

cmd_stop() {
  need_root
  local c=${1:?stop needs kubelet or containerd, and a node} node=${2:?stop $1 needs a node: ${NODES[*]}}
  case "$c" in kubelet|containerd) ;; *) die "stop: only kubelet and containerd (of one node) can be stopped; down stops everything" ;; esac
  select_node "$node"
  stop_process "$c-$N_SHORT"
}

# Removes every name of an image from a node's runtime (every node's, unless one is named), so
# the next pod using it pulls it again (what "cold" means in the end-to-end tests).
cmd_rmi() {
  need_root
  local ref=${1:?rmi needs an image reference, e.g. nginx} node=${2:-} n
  case "$ref" in */*) ;; *) ref="library/$ref" ;; esac
  case "${ref%%/*}" in *.*|*:*) ;; *) ref="docker.io/$ref" ;; esac
  case "${ref##*/}" in *:*|*@*) ;; *) ref="$ref:latest" ;; esac
  for n in $(nodes_of "$node"); do rmi_on "$n" "$ref"; done
}

rmi_on() { # node ref
  select_node "$1"
  local ref=$2 digest
  digest=$(ctr_ images ls | awk -v r="$ref" '$1 == r {print $3}')
  [ -n "$digest" ] || { log "rmi: $ref is not on $N"; return 0; }
  local names; mapfile -t names < <(ctr_ images ls | awk -v d="$digest" '$3 == d {print $1}')
  # A container keeps the image's snapshot, and so its layers, alive: the kubelet
  # removes a deleted pod's containers a few seconds after the pod is gone.
  local deadline=$(( $(date +%s) + 60 )) users
  for (( ;; )); do
    users=$(ctr_ containers ls | awk 'NR > 1 {print $2}' | grep -cxF -f <(printf '%s\n' "${names[@]}") || true)
    [ "$users" -eq 0 ] && break
    [ "$(date +%s)" -lt "$deadline" ] || die "rmi: $ref is still used by $users container(s) of running pods on $N: delete them first"
    sleep 0.5
  done
  # --sync: wait for the garbage collector, so layers and snapshots are gone too
  ctr_ images rm --sync "${names[@]}" >/dev/null
  log "rmi: removed $ref from $N"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  restart) shift; cmd_restart "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  rmi) shift; cmd_rmi "$@" ;;
  kubeconfig) echo "$KUBECONFIG_PATH" ;;
  -h|--help|help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d' ;;
  *) die "usage: cluster.sh up|down|status|restart COMPONENT [NODE]|stop kubelet|containerd NODE|rmi IMAGE [NODE]|kubeconfig (see --help)" ;;
esac
