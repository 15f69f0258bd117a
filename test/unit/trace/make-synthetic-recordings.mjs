// Regenerates the synthetic development recordings beside this file:
//   node test/unit/trace/make-synthetic-recordings.mjs test/unit/trace
// The object shapes follow a v1.34 single-node cluster (pod status conditions,
// kubelet core/v1 events with .<hex UnixNano> names, the scheduler's
// events.k8s.io/v1 Scheduled event with a µs eventTime). Real recordings in
// test/fixtures/recordings/ take precedence; these only keep development going.
import { writeFileSync } from 'node:fs';
const out = process.argv[2];
const T = Date.UTC(2025, 10, 24, 16, 40, 0, 0) + 123.456;
const ns = 'default';
const sec = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const micro = (ms) => { const d = new Date(Math.floor(ms)); const us = Math.round((ms - Math.floor(ms)) * 1000); return d.toISOString().replace(/\.(\d{3})Z$/, (_, m) => `.${m}${String(us).padStart(3, '0')}Z`); };
const hexName = (name, ms) => `${name}.${(BigInt(Math.round(ms * 1e3)) * 1000n + 417n).toString(16)}`;
let rv = 41000;
const nextRv = () => String(++rv);

function scenario(kind) {
  const podName = kind === 'ready' ? 'podtrace-nginx-7k2x9' : 'podtrace-nginx-q4m8s';
  const image = kind === 'ready' ? 'nginx:1.27' : 'nginx:does-not-exist-1';
  const uid = kind === 'ready' ? '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f' : '0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d';
  const node = 'node-1';
  const obs = [];
  let seq = 0;
  const client = (at, type, data = {}) => obs.push({ seq: seq++, source: 'client', type, observedAt: T + at, data });
  const watch = (at, source, type, object) => obs.push({ seq: seq++, source, type, observedAt: T + at, object });
  const header = { kind: 'podtrace-recording', version: 1, toolVersion: '0.1.0', startedAt: T, namespace: ns, podName, options: { keep: false, timeoutMs: 120000, image } };

  const submitted = { apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'podtrace' } }, spec: { containers: [{ name: 'nginx', image }], restartPolicy: 'Always' } };
  const creation = T + 90;
  const stored = () => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: podName, namespace: ns, uid, resourceVersion: nextRv(), creationTimestamp: sec(creation), labels: { 'app.kubernetes.io/managed-by': 'podtrace' },
      managedFields: [{ manager: 'podtrace', operation: 'Update', apiVersion: 'v1', time: sec(creation), fieldsType: 'FieldsV1', fieldsV1: {} }] },
    spec: {
      volumes: [{ name: 'kube-api-access-abcde', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }], defaultMode: 420 } }],
      containers: [{ name: 'nginx', image, resources: {}, volumeMounts: [{ name: 'kube-api-access-abcde', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }], terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' }],
      restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', serviceAccountName: 'default', serviceAccount: 'default', securityContext: {}, schedulerName: 'default-scheduler',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      priority: 0, enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority',
    },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  });
  const clone = (o) => JSON.parse(JSON.stringify(o));
  const cond = (type, status, at, extra = {}) => ({ type, status, lastProbeTime: null, lastTransitionTime: sec(at), ...extra });

  const ref = { kind: 'Pod', namespace: ns, name: podName, uid, apiVersion: 'v1', resourceVersion: '' };
  let evUid = 0;
  const coreEvent = (at, reason, message, { type = 'Normal', fieldPath = 'spec.containers{nginx}', count = 1, lastAt = at } = {}) => {
    const u = `${uid.slice(0, 8)}-e0e0-4e0e-8e0e-${String(++evUid).padStart(12, '0')}`;
    return { kind: 'Event', apiVersion: 'v1', metadata: { name: hexName(podName, T + at), namespace: ns, uid: u, resourceVersion: nextRv(), creationTimestamp: sec(T + at + 1.5) },
      involvedObject: { ...ref, resourceVersion: '41003', ...(fieldPath ? { fieldPath } : {}) }, reason, message,
      source: { component: 'kubelet', host: node }, firstTimestamp: sec(T + at), lastTimestamp: sec(T + lastAt), count, type, eventTime: null, reportingComponent: 'kubelet', reportingInstance: node };
  };

  client(12.3, 'kubeconfig-loaded', { context: 'kubernetes-admin@podtrace', cluster: 'podtrace', user: 'kubernetes-admin', server: 'https://10.0.2.15:6443', namespace: ns, authMethod: 'client-certificate', loadMs: 8.2 });
  client(14.1, 'credentials-resolved', { durationMs: 1.6, method: 'client-certificate' });
  client(40.7, 'server-version', { gitVersion: 'v1.34.12', platform: 'linux/amd64' });
  client(55.2, 'self-subject-review', { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] });
  client(63.9, 'access-review', { verb: 'create', resource: 'pods', namespace: ns, allowed: true, denied: false, reason: 'RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"', evaluationError: '' });
  client(70.1, 'watch-started', { watch: 'pod', resourceVersion: '41000' });
  client(71.4, 'watch-started', { watch: 'event', resourceVersion: '41000' });
  client(72.2, 'watch-started', { watch: 'eventsv1', resourceVersion: '41000' });
  client(80.0, 'submitted', { pod: submitted });
  client(80.5, 'post-sent', {});
  let pod = stored();
  client(95.2, 'post-response', { status: 201, pod: clone(pod) });
  watch(96.0, 'pod', 'ADDED', clone(pod));

  const schedAt = 101.2345;
  const evName = hexName(podName, T + schedAt + 0.004);
  const schedV1 = { kind: 'Event', apiVersion: 'events.k8s.io/v1', metadata: { name: evName, namespace: ns, uid: `${uid.slice(0, 8)}-5c5c-4c5c-8c5c-000000000001`, resourceVersion: nextRv(), creationTimestamp: sec(T + schedAt + 2) },
    eventTime: micro(T + schedAt), reportingController: 'default-scheduler', reportingInstance: `default-scheduler-${node}`, action: 'Binding', reason: 'Scheduled',
    regarding: { ...ref, resourceVersion: '41002' }, note: `Successfully assigned ${ns}/${podName} to ${node}`, type: 'Normal' };
  pod.metadata.resourceVersion = nextRv();
  pod.spec.nodeName = node;
  pod.status.conditions = [cond('PodScheduled', 'True', T + 100)];
  watch(102.8, 'pod', 'MODIFIED', clone(pod));
  watch(103.5, 'eventsv1', 'ADDED', schedV1);
  watch(104.1, 'event', 'ADDED', { kind: 'Event', apiVersion: 'v1', metadata: schedV1.metadata, involvedObject: schedV1.regarding, reason: 'Scheduled', message: schedV1.note, source: {}, firstTimestamp: null, lastTimestamp: null, type: 'Normal', eventTime: schedV1.eventTime, action: 'Binding', reportingComponent: 'default-scheduler', reportingInstance: schedV1.reportingInstance });

  const nodeObj = { kind: 'Node', apiVersion: 'v1', metadata: { name: node, uid: '11111111-2222-4333-8444-555555555555', resourceVersion: '40990', labels: { 'kubernetes.io/hostname': node } },
    status: { capacity: { cpu: '2', memory: '8141200Ki', pods: '110', 'ephemeral-storage': '40470732Ki' }, allocatable: { cpu: '2', memory: '8038800Ki', pods: '110', 'ephemeral-storage': '37297826550' },
      conditions: [
        { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: sec(T - 5000), lastTransitionTime: sec(T - 3600000), reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
        { type: 'DiskPressure', status: 'False', lastHeartbeatTime: sec(T - 5000), lastTransitionTime: sec(T - 3600000), reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
        { type: 'PIDPressure', status: 'False', lastHeartbeatTime: sec(T - 5000), lastTransitionTime: sec(T - 3600000), reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
        { type: 'Ready', status: 'True', lastHeartbeatTime: sec(T - 5000), lastTransitionTime: sec(T - 3600000), reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      nodeInfo: { machineID: 'abc', systemUUID: 'def', bootID: 'ghi', kernelVersion: '6.18.0-1-amd64', osImage: 'Debian GNU/Linux 12 (bookworm)', containerRuntimeVersion: 'containerd://1.6.20', kubeletVersion: 'v1.34.12', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' } } };
  client(110.4, 'node-info', { node: nodeObj });
  watch(111.0, 'node', 'ADDED', clone(nodeObj));

  pod.metadata.resourceVersion = nextRv();
  pod.status = { phase: 'Pending', hostIP: '10.0.2.15', hostIPs: [{ ip: '10.0.2.15' }], startTime: sec(T + 130), qosClass: 'BestEffort',
    conditions: [cond('PodReadyToStartContainers', 'False', T + 130), cond('Initialized', 'True', T + 130), cond('Ready', 'False', T + 130, { reason: 'ContainersNotReady', message: 'containers with unready status: [nginx]' }), cond('ContainersReady', 'False', T + 130, { reason: 'ContainersNotReady', message: 'containers with unready status: [nginx]' }), cond('PodScheduled', 'True', T + 100)],
    containerStatuses: [{ name: 'nginx', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image, imageID: '', started: false, volumeMounts: [] }] };
  watch(136.2, 'pod', 'MODIFIED', clone(pod));

  pod.metadata.resourceVersion = nextRv();
  pod.status.conditions[0] = cond('PodReadyToStartContainers', 'True', T + 415);
  pod.status.podIP = '10.88.0.5';
  pod.status.podIPs = [{ ip: '10.88.0.5' }];
  watch(421.7, 'pod', 'MODIFIED', clone(pod));
  const pulling = coreEvent(425.5, 'Pulling', `Pulling image "${image}"`);
  watch(428.1, 'event', 'ADDED', pulling);

  if (kind === 'ready') {
    watch(3953.3, 'event', 'ADDED', coreEvent(3950.25, 'Pulled', `Successfully pulled image "${image}" in 3.521s (3.521s including waiting). Image size: 72099410 bytes.`));
    watch(3993.0, 'event', 'ADDED', coreEvent(3990.6, 'Created', 'Created container: nginx'));
    watch(4122.9, 'event', 'ADDED', coreEvent(4120.1, 'Started', 'Started container nginx'));
    pod.metadata.resourceVersion = nextRv();
    pod.status.phase = 'Running';
    pod.status.conditions = pod.status.conditions.map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? cond(c.type, 'True', T + 4128) : c));
    pod.status.containerStatuses = [{ name: 'nginx', state: { running: { startedAt: sec(T + 4118) } }, lastState: {}, ready: true, restartCount: 0, image: `docker.io/library/${image}`, imageID: 'docker.io/library/nginx@sha256:0a399eb16751829e1af26fea27b20c3ec28d7ab1fb72182879dcae1cca21206a', containerID: 'containerd://5d1f0c8e', started: true }];
    watch(4135.4, 'pod', 'MODIFIED', clone(pod));
    client(4300.0, 'delete-sent', {});
    client(4305.2, 'delete-response', { status: 200 });
    pod.metadata.resourceVersion = nextRv();
    pod.metadata.deletionTimestamp = sec(T + 4301);
    pod.metadata.deletionGracePeriodSeconds = 30;
    watch(4306.0, 'pod', 'MODIFIED', clone(pod));
    watch(4312.7, 'event', 'ADDED', coreEvent(4310.9, 'Killing', 'Stopping container nginx'));
    pod.metadata.resourceVersion = nextRv();
    pod.status.phase = 'Running';
    pod.status.conditions = pod.status.conditions.map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? cond(c.type, 'False', T + 4690, { reason: 'PodCompleted' }) : c));
    pod.status.containerStatuses[0] = { ...pod.status.containerStatuses[0], ready: false, started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: sec(T + 4118), finishedAt: sec(T + 4680), containerID: 'containerd://5d1f0c8e' } } };
    watch(4702.3, 'pod', 'MODIFIED', clone(pod));
    watch(4760.1, 'pod', 'DELETED', clone(pod));
    client(4760.5, 'pod-gone', { via: 'watch' });
    client(4800.0, 'done', { reason: 'deleted' });
  } else {
    const err = `rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/${image}": failed to resolve reference "docker.io/library/${image}": docker.io/library/${image}: not found`;
    const failedPull = coreEvent(1200.7, 'Failed', `Failed to pull image "${image}": ${err}`, { type: 'Warning' });
    watch(1203.4, 'event', 'ADDED', failedPull);
    watch(1204.0, 'event', 'ADDED', coreEvent(1200.9, 'Failed', 'Error: ErrImagePull', { type: 'Warning' }));
    pod.metadata.resourceVersion = nextRv();
    pod.status.containerStatuses = [{ ...pod.status.containerStatuses[0], state: { waiting: { reason: 'ErrImagePull', message: err } } }];
    watch(1210.0, 'pod', 'MODIFIED', clone(pod));
    client(2600.0, 'watch-gap', { watch: 'event', from: T + 1500, to: T + 2600, reason: 'closed' });
    watch(2601.0, 'event', 'LIST', failedPull);
    client(2601.5, 'relist', { watch: 'event', resourceVersion: '41050', items: 1 });
    const backoff = coreEvent(2230.3, 'BackOff', `Back-off pulling image "${image}"`);
    watch(2602.0, 'event', 'ADDED', backoff);
    watch(2602.5, 'event', 'ADDED', coreEvent(2230.5, 'Failed', 'Error: ImagePullBackOff', { type: 'Warning' }));
    pod.metadata.resourceVersion = nextRv();
    pod.status.containerStatuses = [{ ...pod.status.containerStatuses[0], state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${err}` } } }];
    watch(2240.0, 'pod', 'MODIFIED', clone(pod));
    client(2700.0, 'done', { reason: 'terminal-failure' });
    client(2701.0, 'delete-sent', {});
    client(2708.0, 'delete-response', { status: 200 });
    pod.metadata.resourceVersion = nextRv();
    pod.metadata.deletionTimestamp = sec(T + 2702);
    watch(2710.0, 'pod', 'MODIFIED', clone(pod));
    watch(3050.0, 'pod', 'DELETED', clone(pod));
    client(3050.4, 'pod-gone', { via: 'watch' });
  }
  obs.sort((a, b) => a.observedAt - b.observedAt).forEach((o, i) => (o.seq = i));
  return [header, ...obs].map((l) => JSON.stringify(l)).join('\n') + '\n';
}
writeFileSync(`${out}/synthetic-ready-nginx.ndjson`, scenario('ready'));
writeFileSync(`${out}/synthetic-image-pull-not-found-nginx.ndjson`, scenario('notfound'));
