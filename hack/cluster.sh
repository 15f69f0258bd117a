#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this host, from upstream parts, in
# the spirit of Kubernetes' hack/local-up-cluster.sh. Everything listens on
# 127.0.0.1, except the kubelet, which needs a non-loopback node IP: it gets
# 192.0.2.10 on a local interface with no ports (TEST-NET-1, never routed off
# the machine). Pods live on a bridge without masquerading and without a
# default route (only the pod subnet and the node address are routed), so
# nothing the cluster runs can send traffic off the machine.
#
#   cluster.sh up [--otlp-endpoint HOST:PORT|local|none]  start (idempotent); prints the kubeconfig path.
#                                               The API server and the kubelet export every span to
#                                               the local Jaeger (query API http://127.0.0.1:16686)
#                                               unless told another OTLP/gRPC endpoint, or none;
#                                               a changed endpoint restarts the API server and kubelet,
#                                               a changed kubelet configuration the kubelet
#   cluster.sh down                             stop what up started, unmount, remove state
#   cluster.sh status                           one line per component
#   cluster.sh restart COMPONENT                registry|private-registry|jaeger|etcd|containerd|apiserver|controller-manager|scheduler|kubelet
#   cluster.sh rmi IMAGE                        remove an image from the node's runtime (cold pulls in tests)
#   cluster.sh kubeconfig                       print the kubeconfig path
#
# All state is under $PODTRACE_STATE (default /var/lib/podtrace-cluster);
# binaries, images and the registry's storage are caches under $PODTRACE_CACHE.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

STATE=$PODTRACE_STATE
PKI=$STATE/pki
ETC=$STATE/etc
RUN=$STATE/run
LOGS=$STATE/logs
KUBECONFIG_PATH=$STATE/kubeconfig

NODE_NAME=podtrace-node
NODE_IP=192.0.2.10
NODE_IFACE=podtrace-node # a dummy device where the kernel has them, else a port-less bridge
POD_BRIDGE=podtrace0
POD_SUBNET=198.18.0.0/24
SERVICE_CIDR=198.18.128.0/24
API_PORT=6443
REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_STORAGE=$PODTRACE_CACHE/registry
# A second registry that wants a password nobody is given (it is thrown away
# at once): every pull from it fails unauthorized, as from a private registry
# without an imagePullSecret. It needs no images for that.
PRIVATE_REGISTRY_ADDR=127.0.0.1:5001
CONTAINERD_SOCK=$STATE/containerd/containerd.sock
CGROUP_PARENT=podtrace # the kubelet's cgroupRoot: every pod process lives below it
# The API server stops listening at once on SIGTERM but its process can linger
# for many seconds after; everything it owns is in etcd by then.
APISERVER_GRACE=3
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

COMPONENTS=(registry private-registry jaeger etcd containerd apiserver controller-manager scheduler kubelet)

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
ctr_() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# ---------------------------------------------------------------- network

ensure_node_interface() {
  if ! ip link show "$NODE_IFACE" >/dev/null 2>&1; then
    ip link add "$NODE_IFACE" type dummy 2>/dev/null || ip link add "$NODE_IFACE" type bridge
  fi
  # `replace` is idempotent; a `show | grep -q` test is not under pipefail
  # (grep exiting first makes `ip` die of SIGPIPE, and the pipeline fail).
  ip addr replace "$NODE_IP/32" dev "$NODE_IFACE"
  ip link set "$NODE_IFACE" up
}

remove_network_devices() {
  local dev
  for dev in $(ip -o link show master "$POD_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link del "$dev" 2>/dev/null || true
  done
  for dev in "$POD_BRIDGE" "$NODE_IFACE"; do
    if ip link show "$dev" >/dev/null 2>&1; then ip link del "$dev"; fi
  done
  remove_portmap_rules
}

# Deletes, by number (comments hold spaces), the rules of a nat chain whose
# text matches a pattern; prints the chain each deleted rule jumped to.
delete_nat_rules() { # chain pattern
  local lines i
  mapfile -t lines < <(iptables -t nat -S "$1" 2>/dev/null | tail -n +2)
  for (( i = ${#lines[@]}; i >= 1; i-- )); do
    [[ ${lines[i-1]} == *"$2"* ]] || continue
    iptables -t nat -D "$1" "$i" 2>/dev/null || true
    sed -n 's/.* -j \([^ ]*\).*/\1/p' <<<"${lines[i-1]}"
  done
}

# hostPort rules the portmap plugin leaves behind when pods die without a CNI
# DEL: only those of our network ("podtrace"); the shared CNI-HOSTPORT-* chains
# go only when nothing else is left in them.
remove_portmap_rules() {
  local chain top parent
  for chain in $(delete_nat_rules CNI-HOSTPORT-DNAT 'dnat name: \"podtrace\"'); do
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
make_cert() { # name subject extended-key-usage [subjectAltName]
  local name=$1 subj=$2 eku=$3 san=${4:-}
  [ -f "$PKI/$name.crt" ] && return
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  { echo "extendedKeyUsage=$eku"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    [ -z "$san" ] || echo "subjectAltName=$san"; } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
  chmod 600 "$PKI/$name.key"
}

ensure_pki() {
  mkdir -p "$PKI"; chmod 700 "$PKI"
  if [ ! -f "$PKI/ca.crt" ]; then
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 3650 \
      -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -subj "/CN=podtrace-local-ca" 2>/dev/null
  fi
  local first_service_ip=${SERVICE_CIDR%.*}.1
  make_cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$NODE_IP,IP:$first_service_ip"
  make_cert admin "/O=system:masters/CN=podtrace-admin" clientAuth
  make_cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  make_cert scheduler "/CN=system:kube-scheduler" clientAuth
  make_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  make_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
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
    server: https://127.0.0.1:$API_PORT
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
  mkdir -p "$ETC" "$STATE/cni/net.d" "$STATE/containerd/certs.d/docker.io" "$STATE/kubelet" "$STATE/pod-logs"
  write_kubeconfig "$KUBECONFIG_PATH" admin embed
  write_kubeconfig "$ETC/controller-manager.kubeconfig" controller-manager
  write_kubeconfig "$ETC/scheduler.kubeconfig" scheduler
  write_kubeconfig "$ETC/kubelet.kubeconfig" kubelet

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
  mkdir -p "$STATE/containerd/certs.d/$PRIVATE_REGISTRY_ADDR"
  cat >"$STATE/containerd/certs.d/$PRIVATE_REGISTRY_ADDR/hosts.toml" <<EOF
server = "http://$PRIVATE_REGISTRY_ADDR"
[host."http://$PRIVATE_REGISTRY_ADDR"]
  capabilities = ["pull", "resolve"]
EOF

  # containerd pulls docker.io/* from the local registry: `nginx` is really pulled.
  cat >"$STATE/containerd/certs.d/docker.io/hosts.toml" <<EOF
server = "http://$REGISTRY_ADDR"
[host."http://$REGISTRY_ADDR"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
EOF
  cat >"$ETC/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
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
        Root = "$STATE/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE/containerd/certs.d"
EOF

  cat >"$STATE/cni/net.d/10-podtrace.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "podtrace",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$POD_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{ "subnet": "$POD_SUBNET" }]],
        "routes": [{ "dst": "$POD_SUBNET" }, { "dst": "$NODE_IP/32" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true }, "snat": false }
  ]
}
EOF

  # Pods resolve names against an address with no server behind it: no DNS
  # query ever leaves the machine.
  echo "nameserver $NODE_IP" >"$ETC/resolv.conf"

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

  cat >"$ETC/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_PARENT
failCgroupV1: false
failSwapOn: false
memorySwap: { swapBehavior: NoSwap }
eventRecordQPS: $KUBELET_EVENT_QPS
eventBurst: $KUBELET_EVENT_QPS
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
podLogsDir: $STATE/pod-logs
resolvConf: $ETC/resolv.conf
clusterDomain: cluster.local
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization: { mode: Webhook }
serializeImagePulls: false
evictionHard: { memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%" }
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
$tracing_kubelet
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
  start_process etcd "$ETCD_BIN" --name "$NODE_NAME" --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$NODE_NAME=http://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381 \
    --log-level warn
  wait_component etcd "etcd" 60 http_ok http://127.0.0.1:2381/health
}

start_containerd() {
  start_process containerd "$(command -v containerd)" --config "$ETC/containerd.toml"
  wait_component containerd "containerd" 60 ctr_ version
  local images
  images=$(ctr_ images ls -q)
  if ! grep -qx "registry.k8s.io/pause:3.10.1" <<<"$images"; then
    log "containerd: importing the pause image"
    "$HACK_DIR/build-images.sh" pause-archive "$STATE/pause.tar"
    ctr_ images import --no-unpack=false "$STATE/pause.tar" >/dev/null
    rm -f "$STATE/pause.tar"
  fi
}

apiserver_ready() { http_ok --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$API_PORT/readyz"; }

start_apiserver() {
  local tracing=()
  [ -f "$ETC/apiserver-tracing.yaml" ] && tracing=(--tracing-config-file "$ETC/apiserver-tracing.yaml")
  start_process apiserver "$K8S_BIN_DIR/kube-apiserver" \
    --bind-address 127.0.0.1 --secure-port "$API_PORT" --advertise-address "$NODE_IP" \
    --etcd-servers http://127.0.0.1:2379 \
    --client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --event-ttl 1h --cert-dir "$STATE/apiserver" \
    --audit-policy-file "$ETC/audit-policy.yaml" --audit-log-path "$LOGS/audit.log" --audit-log-maxsize 50 --audit-log-maxbackup 1 \
    "${tracing[@]}"
  wait_component apiserver "kube-apiserver on 127.0.0.1:$API_PORT" 120 apiserver_ready
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
    --controllers '*,-cloud-node-lifecycle-controller,-node-ipam-controller'
  wait_component controller-manager "kube-controller-manager" 60 http_ok -k https://127.0.0.1:10257/healthz
}

start_scheduler() {
  start_process scheduler "$K8S_BIN_DIR/kube-scheduler" \
    --kubeconfig "$ETC/scheduler.kubeconfig" \
    --authentication-kubeconfig "$ETC/scheduler.kubeconfig" \
    --authorization-kubeconfig "$ETC/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false
  wait_component scheduler "kube-scheduler" 60 http_ok -k https://127.0.0.1:10259/healthz
}

# cgroup v1: the kubelet's cgroupRoot must exist in every hierarchy it uses,
# and a new cpuset cgroup has no CPUs or memory nodes until given its parent's.
ensure_cgroup_root() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [ "$(stat -f -c %T "$h")" = cgroupfs ] || continue
    mkdir -p "$h$CGROUP_PARENT"
    if [ -f "$h/cpuset.cpus" ]; then
      cat "$h/cpuset.cpus" >"$h$CGROUP_PARENT/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h$CGROUP_PARENT/cpuset.mems"
    fi
  done
}

start_kubelet() {
  ensure_cgroup_root
  start_process kubelet "$K8S_BIN_DIR/kubelet" \
    --config "$ETC/kubelet.yaml" --kubeconfig "$ETC/kubelet.kubeconfig" \
    --root-dir "$STATE/kubelet" --cert-dir "$STATE/kubelet/pki" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v 2
  wait_component kubelet "the kubelet's healthz" 60 http_ok http://127.0.0.1:10248/healthz
}

node_ready() {
  [ "$(kubectl_ get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

# ---------------------------------------------------------------- teardown

# Everything mounted under the state dir (pod rootfs overlays, shm, netns,
# projected volumes), deepest first.
our_mounts() { awk -v s="$STATE/" 'index($5, s) == 1 {print $5}' /proc/self/mountinfo | sort -r; }

cgroup_dirs() { # deepest first
  local d
  for d in /sys/fs/cgroup/*/"$CGROUP_PARENT"; do [ -d "$d" ] && find "$d" -depth -type d; done
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

# Stops every pod process and containerd shim of ours, then unmounts: what a
# killed kubelet/containerd leaves behind, and what `down` must remove.
clear_runtime_leftovers() {
  local dir pid m
  for dir in $(cgroup_dirs); do
    for pid in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  # containerd 1.6 puts shim sockets in /run/containerd/s whatever its state
  # dir: find ours through the shims' open sockets before killing them.
  local shims sockets
  shims=$(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK( |$)" || true)
  sockets=$(unix_sockets_of $shims | grep '^/run/containerd/s/' || true)
  for pid in $shims; do kill -KILL "$pid" 2>/dev/null || true; done
  for m in $sockets; do rm -f "$m"; done
  sleep 0.3
  for m in $(our_mounts); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  for dir in $(cgroup_dirs); do rmdir "$dir" 2>/dev/null || true; done
  rm -f "$CONTAINERD_SOCK" "$CONTAINERD_SOCK.ttrpc"
  # the kubelet links container logs from /var/log/containers into podLogsDir
  find /var/log/containers -maxdepth 1 -type l -lname "$STATE/*" -delete 2>/dev/null || true
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
  local c; for c in "${COMPONENTS[@]}"; do running_pid "$c" >/dev/null || rm -f "$(pidfile "$c")"; done
  # a killed runtime leaves pods, shims, mounts and sockets behind
  running_pid containerd >/dev/null || clear_runtime_leftovers
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
  local kubelet_before apiserver_before
  kubelet_before=$(file_sum "$ETC/kubelet.yaml")
  apiserver_before=$(file_sum "$ETC/apiserver-tracing.yaml")
  write_configs
  if [ "$(file_sum "$ETC/apiserver-tracing.yaml")" != "$apiserver_before" ] && running_pid apiserver >/dev/null; then
    log "the API server's tracing changed (endpoint: '$(otlp_endpoint)'): restarting it"
    stop_process apiserver "$APISERVER_GRACE"
  fi
  if [ "$(file_sum "$ETC/kubelet.yaml")" != "$kubelet_before" ] && running_pid kubelet >/dev/null; then
    log "the kubelet's configuration changed: restarting it"
    stop_process kubelet
  fi
  start_registry
  start_private_registry
  start_jaeger
  start_etcd
  start_containerd
  start_apiserver
  start_controller_manager
  start_scheduler
  start_kubelet
  wait_for "node $NODE_NAME to be Ready" 120 node_ready
  wait_for "the default ServiceAccount" 60 kubectl_ get serviceaccount default -n default
  log "cluster up in $(( ($(date +%s%N) - start) / 1000000 ))ms"
  echo "$KUBECONFIG_PATH"
}

cmd_down() {
  need_root
  stop_process kubelet 20
  clear_runtime_leftovers
  stop_process containerd 20
  clear_runtime_leftovers
  local c
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
    if pid=$(running_pid "$c"); then printf '%-19s running (pid %s)\n' "$c" "$pid"
    else printf '%-19s stopped\n' "$c"; all=1; fi
  done
  if [ $all -eq 0 ] && node_ready; then echo "node $NODE_NAME Ready; kubeconfig: $KUBECONFIG_PATH"
  else echo "cluster not ready"; return 3; fi
}

cmd_restart() {
  need_root
  local c=${1:?restart needs a component: ${COMPONENTS[*]}}
  case "$c" in
    registry) stop_process registry; start_registry ;;
    private-registry) stop_process private-registry; start_private_registry ;;
    jaeger) stop_process jaeger; start_jaeger ;;
    etcd) stop_process etcd; start_etcd ;;
    containerd) stop_process containerd; start_containerd ;;
    apiserver) stop_process apiserver "$APISERVER_GRACE"; start_apiserver ;;
    controller-manager) stop_process controller-manager; start_controller_manager ;;
    scheduler) stop_process scheduler; start_scheduler ;;
    kubelet) stop_process kubelet; start_kubelet; wait_for "node $NODE_NAME to be Ready" 60 node_ready ;;
    *) die "unknown component '$c': one of ${COMPONENTS[*]}" ;;
  esac
}

# Removes every name of an image from the node's runtime, so the next pod
# using it pulls it again (what "cold" means in the end-to-end tests).
cmd_rmi() {
  need_root
  local ref=${1:?rmi needs an image reference, e.g. nginx}
  case "$ref" in */*) ;; *) ref="library/$ref" ;; esac
  case "${ref%%/*}" in *.*|*:*) ;; *) ref="docker.io/$ref" ;; esac
  case "${ref##*/}" in *:*|*@*) ;; *) ref="$ref:latest" ;; esac
  local digest
  digest=$(ctr_ images ls | awk -v r="$ref" '$1 == r {print $3}')
  [ -n "$digest" ] || { log "rmi: $ref is not on the node"; return 0; }
  local names; mapfile -t names < <(ctr_ images ls | awk -v d="$digest" '$3 == d {print $1}')
  # A container keeps the image's snapshot, and so its layers, alive: the kubelet
  # removes a deleted pod's containers a few seconds after the pod is gone.
  local deadline=$(( $(date +%s) + 60 )) users
  for (( ;; )); do
    users=$(ctr_ containers ls | awk 'NR > 1 {print $2}' | grep -cxF -f <(printf '%s\n' "${names[@]}") || true)
    [ "$users" -eq 0 ] && break
    [ "$(date +%s)" -lt "$deadline" ] || die "rmi: $ref is still used by $users container(s) of running pods: delete them first"
    sleep 0.5
  done
  # --sync: wait for the garbage collector, so layers and snapshots are gone too
  ctr_ images rm --sync "${names[@]}" >/dev/null
  log "rmi: removed $ref"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  restart) shift; cmd_restart "$@" ;;
  rmi) shift; cmd_rmi "$@" ;;
  kubeconfig) echo "$KUBECONFIG_PATH" ;;
  -h|--help|help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d' ;;
  *) die "usage: cluster.sh up|down|status|restart COMPONENT|rmi IMAGE|kubeconfig (see --help)" ;;
esac
