/**
 * The milestone table: every step from request to Ready (and teardown), each
 * with where its time can come from and which steps must happen before it.
 * reconstruct() picks the best candidate per row; rows with no candidate are
 * simply absent from the trace. Rows are listed so that every row comes after
 * the rows named in its `after` (the trace itself lists milestones in time
 * order). Like clusterloader2's phase table, adding a step is adding a row here.
 */
import { parseSecondsTime } from './event-time.js';
import { containerRefs, kubeletEvents, schedulerEvents, type Context, type ContainerRef } from './context.js';
import { clusterIPOf, describeHandler, type Pod } from './kube-objects.js';
import { nodeFromScheduledMessage } from './messages.js';
import { creatingSync, criCall, requestSpan, terminatingCalls } from './component-spans.js';
import { podReachStep, reachStep, sliceSighting, clientStep, fromEvent, fromSpan, firstEvent, firstSnapshot, watched, field, condition, conditionTrue, reviewCandidates, type MilestoneSpec } from './milestone-spec.js';
import { containerRows, containerReadyRows } from './container-milestones.js';

/** `--expose PORT`: the Service, then the pod's address in its EndpointSlice, then ready there. */
function serviceRows(podName: string, clockOffsetMs: number): MilestoneSpec[] {
  return [
    {
      id: 'service.created',
      label: 'Service created',
      stepLabel: 'API server stores the Service, allocates a cluster IP',
      component: 'apiserver',
      after: ['api.accepted'],
      timedWhenSeen: true,
      candidates: (c) =>
        clientStep(c, 'service-created', (d) => {
          const ip = clusterIPOf(d.service);
          return ip ? `cluster IP ${ip}` : undefined;
        }),
    },
    {
      id: 'service.endpoint-added',
      label: 'pod address in the EndpointSlice',
      stepLabel: 'EndpointSlice controller adds the pod',
      component: 'controller-manager',
      after: ['service.created'],
      timedWhenSeen: true,
      candidates: (c) => sliceSighting(c, podName, 'the pod listed', () => true),
    },
    {
      id: 'service.endpoint-ready',
      label: 'endpoint ready in the EndpointSlice',
      stepLabel: 'EndpointSlice controller marks the address ready',
      component: 'controller-manager',
      after: ['service.endpoint-added', 'pod.ready'],
      timedWhenSeen: true,
      candidates: (c) => sliceSighting(c, podName, 'the pod ready', (ready) => ready),
    },
    {
      id: 'service.routed',
      label: "Service routes to the pod (from podtrace's machine)",
      stepLabel: "kube-proxy programs the Service's rules: a connection to the cluster IP reaches the pod",
      component: 'kube-proxy',
      after: ['service.created', 'pod.ready'],
      candidates: (c) => reachStep(c, 'route'),
    },
    {
      id: 'service.dns',
      label: "Service name resolves (cluster DNS, from podtrace's machine)",
      stepLabel: "the cluster DNS answers the Service's name with its cluster IP",
      component: 'dns',
      after: ['service.created'],
      candidates: (c) => reachStep(c, 'dns'),
    },
    {
      id: 'service.pod-routed',
      label: 'Service routes to the pod (from a probe pod)',
      stepLabel: "kube-proxy on the probe's node programs the Service's rules: a connection from a pod to the cluster IP reaches the pod",
      component: 'kube-proxy',
      after: ['service.created', 'pod.ready'],
      candidates: (c) => podReachStep(c, 'route', clockOffsetMs),
    },
    {
      id: 'service.pod-dns',
      label: "Service name resolves (cluster DNS, from a probe pod)",
      stepLabel: "the cluster DNS answers the Service's name to a pod, through the pod's resolver",
      component: 'dns',
      after: ['service.created'],
      candidates: (c) => podReachStep(c, 'dns', clockOffsetMs),
    },
  ];
}

/**
 * The whole table for this pod (container rows depend on its spec).
 * `clockOffsetMs` (server - client) lets rows compare server times with client steps.
 */
export function milestoneTable(ctx: Context, clockOffsetMs = 0): MilestoneSpec[] {
  const refs = containerRefs(ctx);
  const initRefs = refs.filter((r) => r.kind !== 'app');
  const appRefs = refs.filter((r) => r.kind === 'app');
  const deleteSentAt = ctx.deleteSentAt;

  const rows: MilestoneSpec[] = [
    {
      id: 'client.kubeconfig',
      label: 'kubeconfig loaded',
      stepLabel: 'read kubeconfig',
      component: 'client',
      candidates: (c) =>
        clientStep(c, 'kubeconfig-loaded', (d) => [d.context, d.server].filter((v) => typeof v === 'string').join(' @ ') || undefined),
    },
    {
      id: 'client.credentials',
      label: 'credentials resolved',
      stepLabel: 'resolve credentials (token, certificate, exec plugin)',
      component: 'client',
      after: ['client.kubeconfig'],
      candidates: (c) => clientStep(c, 'credentials-resolved', (d) => (typeof d.method === 'string' ? d.method : undefined)),
    },
    {
      id: 'client.identity',
      label: 'identity (SelfSubjectReview)',
      stepLabel: 'API server authenticates the user',
      component: 'apiserver',
      after: ['client.credentials'],
      candidates: (c) =>
        clientStep(c, 'self-subject-review', (d) =>
          typeof d.username === 'string' ? d.username : typeof d.error === 'string' ? `error: ${d.error}` : undefined,
        ),
    },
    {
      id: 'client.authorized',
      label: 'may create pods (access review)',
      stepLabel: 'API server authorizes: can I create pods?',
      component: 'apiserver',
      after: ['client.credentials'],
      candidates: (c) => reviewCandidates(c, 'create'),
    },
    {
      id: 'client.may-delete',
      label: 'may delete pods (access review)',
      stepLabel: 'API server authorizes: can I delete pods (cleanup)?',
      component: 'apiserver',
      after: ['client.credentials'],
      candidates: (c) => reviewCandidates(c, 'delete'),
    },
    {
      id: 'api.post-sent',
      label: 'POST pod sent',
      stepLabel: 'client builds the request',
      component: 'client',
      after: ['client.authorized'],
      candidates: (c) => clientStep(c, 'post-sent'),
    },
    {
      id: 'api.accepted',
      label: 'API server stored the pod',
      stepLabel: 'authn, authz, admission, validation, etcd write',
      component: 'apiserver',
      after: ['api.post-sent'],
      timedWhenSeen: true,
      candidates: (c) => {
        const creation = c.stored?.metadata?.creationTimestamp ?? c.snapshots[0]?.pod.metadata?.creationTimestamp;
        const detail = creation ? `creationTimestamp ${creation}` : undefined;
        const first = c.snapshots.find((s) => s.type !== 'POST');
        // The response and the watch both say "stored by now": the earlier of the two is the tighter bound.
        const seen = [...clientStep(c, 'post-response', () => detail), ...watched(first, 'first sighting', detail)].sort(
          (a, b) => a.clientMs! - b.clientMs!,
        );
        // The API server's own span of the etcd write ends when the pod is stored: exact, where traced.
        const stored = fromSpan(c, requestSpan(c.spans, 'createPod', 'Create etcd3'), 'end', detail);
        return [...stored, ...seen.slice(0, 1), ...field(c.snapshots[0], creation, 'status-field-s', 'metadata.creationTimestamp', detail)];
      },
    },
    {
      id: 'scheduler.failed-scheduling',
      failure: true,
      label: 'first scheduling attempt failed',
      stepLabel: 'scheduling queue, filter (no node fits)',
      component: 'scheduler',
      after: ['api.accepted'],
      candidates: (c) => {
        const failed = schedulerEvents(c, 'FailedScheduling');
        const e = firstEvent(failed);
        return fromEvent(e, e?.message);
      },
    },
    {
      id: 'scheduler.scheduled',
      label: 'scheduled to a node',
      stepLabel: 'scheduling queue, filter, score, bind',
      component: 'scheduler',
      expects: 'Scheduled event from the scheduler',
      after: ['api.accepted', 'scheduler.failed-scheduling'],
      candidates: (c) => {
        const e = firstEvent(schedulerEvents(c, 'Scheduled'));
        const node = (p: Pod) => p.spec?.nodeName;
        const nodeName = c.latestPod?.spec?.nodeName ?? (e ? nodeFromScheduledMessage(e.message) : undefined);
        const detail = nodeName ? `node ${nodeName}` : undefined;
        const s = firstSnapshot(c, (p) => Boolean(node(p)) || condition(p, 'PodScheduled')?.status === 'True');
        return [
          // stamped when the bind call returned: the kubelet may already be at work on the pod
          ...fromEvent(e, detail).map((c) => ({ ...c, stampedAfter: true as const })),
          ...watched(s, 'spec.nodeName set', detail),
          ...field(s, s ? condition(s.pod, 'PodScheduled')?.lastTransitionTime : undefined, 'condition-s', 'condition PodScheduled lastTransitionTime', detail),
        ];
      },
    },
    {
      id: 'kubelet.acknowledged',
      label: 'kubelet acknowledged the pod',
      stepLabel: 'kubelet sees the binding and starts syncing the pod',
      component: 'kubelet',
      after: ['scheduler.scheduled'],
      candidates: (c) => {
        const s = firstSnapshot(c, (p) => Boolean(p.status?.startTime));
        return [
          ...fromSpan(c, creatingSync(c.spans), 'start'),
          ...watched(s, 'status.startTime set'),
          ...field(s, s?.pod.status?.startTime, 'status-field-s', 'status.startTime'),
        ];
      },
    },
    {
      id: 'kubelet.sandbox-requested',
      label: 'kubelet asks the runtime for the sandbox',
      stepLabel: 'kubelet prepares the pod: pod cgroups, volumes, pull secrets',
      component: 'kubelet',
      after: ['kubelet.acknowledged'],
      // Only the kubelet's own span (RunPodSandbox) says when this happens.
      candidates: (c) => fromSpan(c, criCall(c.spans, 'RunPodSandbox'), 'start'),
    },
    {
      id: 'runtime.sandbox-failed',
      failure: true,
      label: 'pod sandbox creation failed',
      stepLabel: 'sandbox (pause container), CNI network setup (failed)',
      component: 'runtime',
      after: ['kubelet.acknowledged'],
      candidates: (c) => {
        const e = firstEvent(kubeletEvents(c, 'FailedCreatePodSandBox'));
        return fromEvent(e, e?.message);
      },
    },
    {
      id: 'runtime.sandbox-ready',
      label: 'pod sandbox and network ready',
      stepLabel: criCall(ctx.spans, 'RunPodSandbox') ? 'sandbox (pause container), CNI network setup' : 'volumes, sandbox (pause container), CNI network setup',
      component: 'runtime',
      after: ['kubelet.acknowledged', 'kubelet.sandbox-requested'],
      candidates: (c) => {
        const ip = (p: Pod) => (p.status?.podIP ? `podIP ${p.status.podIP}` : undefined);
        const ready = fromSpan(c, criCall(c.spans, 'RunPodSandbox'), 'end', c.latestPod ? ip(c.latestPod) : undefined);
        const viaCondition = conditionTrue(c, 'PodReadyToStartContainers', ip);
        if (ready.length || viaCondition.length) return [...ready, ...viaCondition];
        // Clusters before 1.29 (or with the gate off) have no such condition: the pod IP is the next best sign.
        const s = firstSnapshot(c, (p) => Boolean(p.status?.podIP));
        return watched(s, 'status.podIP set', s ? ip(s.pod) : undefined).map((x) => ({
          ...x,
          fallback: 'no PodReadyToStartContainers condition: timed from the first pod IP',
        }));
      },
    },
  ];

  // Init containers run one after the other (a sidecar only has to start); app containers after all of them.
  const doneId = (ref: ContainerRef) => `container.${ref.name}.${ref.kind === 'sidecar' ? 'started' : 'completed'}`;
  let gate = 'runtime.sandbox-ready';
  for (const ref of initRefs) {
    rows.push(...containerRows(ref, gate), ...(ref.kind === 'sidecar' ? containerReadyRows(ref, clockOffsetMs) : []));
    gate = doneId(ref);
  }
  if (initRefs.length > 0) {
    rows.push({
      id: 'pod.initialized',
      label: 'init containers done',
      stepLabel: 'kubelet reports initialization complete',
      component: 'kubelet',
      after: initRefs.map(doneId),
      candidates: (c) => conditionTrue(c, 'Initialized'),
    });
    gate = 'pod.initialized';
  }
  for (const ref of appRefs) rows.push(...containerRows(ref, gate));
  for (const ref of appRefs) rows.push(...containerReadyRows(ref, clockOffsetMs));
  const readyIds = refs.filter((r) => r.kind !== 'init').map((r) => `container.${r.name}.ready`);

  rows.push(
    {
      id: 'pod.containers-ready',
      label: 'all containers ready',
      stepLabel: 'kubelet reports all containers ready',
      component: 'kubelet',
      after: readyIds,
      candidates: (c) => conditionTrue(c, 'ContainersReady'),
    },
    {
      id: 'pod.ready',
      label: 'pod Ready',
      stepLabel: 'kubelet reports the pod Ready',
      component: 'kubelet',
      after: ['pod.containers-ready'],
      candidates: (c) => conditionTrue(c, 'Ready'),
    },
    ...(ctx.header.options.expose !== undefined ? serviceRows(ctx.header.podName, clockOffsetMs) : []),
    {
      id: 'teardown.delete-sent',
      label: 'DELETE pod sent',
      stepLabel: 'podtrace holds the pod, then deletes it',
      component: 'client',
      candidates: (c) => clientStep(c, 'delete-sent'),
    },
    {
      id: 'teardown.killing',
      label: 'kubelet stopping containers',
      stepLabel: 'kubelet sees the deletion',
      component: 'kubelet',
      after: ['teardown.delete-sent'],
      candidates: (c) => {
        if (deleteSentAt === undefined) return [];
        // Liveness failures kill containers too: only kills at or after the DELETE are teardown.
        const kills = kubeletEvents(c, 'Killing').filter(
          (e) => e.first !== undefined && e.first.ms + e.first.precisionMs - clockOffsetMs >= deleteSentAt,
        );
        return fromEvent(firstEvent(kills));
      },
    },
    ...preStopRows(refs, deleteSentAt, clockOffsetMs),
    {
      id: 'teardown.containers-terminated',
      label: 'containers terminated',
      stepLabel: 'containers stop (grace period, SIGTERM)',
      component: 'runtime',
      after: ['teardown.delete-sent', 'teardown.killing', ...(refs.some((r) => r.spec.lifecycle?.preStop) ? ['teardown.pre-stop-done'] : [])],
      candidates: (c) => {
        if (deleteSentAt === undefined) return [];
        const allTerminated = (p: Pod) => {
          const all = [...(p.status?.containerStatuses ?? [])];
          return all.length > 0 && all.every((st) => st.state?.terminated !== undefined && st.state.running === undefined);
        };
        const s = firstSnapshot(c, allTerminated, deleteSentAt);
        const finished = s?.pod.status?.containerStatuses
          ?.map((st) => st.state?.terminated?.finishedAt)
          .filter((v): v is string => Boolean(v))
          .sort()
          .at(-1);
        // A container that had already exited (crash loop, failed pull) keeps its old finishedAt:
        // that time is not the teardown's and must not stand in for the sighting.
        const t = parseSecondsTime(finished, 'status-field-s');
        const afterDelete = t !== undefined && t.ms + t.precisionMs - clockOffsetMs >= deleteSentAt;
        return [
          ...watched(s, 'all containers terminated'),
          ...(afterDelete ? field(s, finished, 'status-field-s', 'latest finishedAt') : []),
        ];
      },
    },
    {
      id: 'teardown.pod-gone',
      label: 'pod deleted from the API',
      stepLabel: 'kubelet confirms, API server removes the object',
      component: 'apiserver',
      after: ['teardown.delete-sent', 'teardown.containers-terminated'],
      timedWhenSeen: true,
      candidates: (c) => {
        const deleted = c.snapshots.find((s) => s.type === 'DELETED');
        return [...clientStep(c, 'pod-gone'), ...(deleted ? watched(deleted, 'DELETED') : [])];
      },
    },
  );
  // An inspection's own client steps happen long after the pod's story: they are not part of it.
  return ctx.header.options.inspect || ctx.header.options.watch ? rows.filter((r) => r.component !== 'client') : rows;
}

/**
 * A preStop hook runs after the kubelet's Killing event and before the
 * container gets its stop signal (StopContainer). With the kubelet's spans,
 * its end is the StopContainer that follows it; without them, the container's
 * 1-s finishedAt bounds it from above. One row for the pod: with several
 * hooked containers the spans cannot tell whose StopContainer is whose.
 */
function preStopRows(refs: readonly ContainerRef[], deleteSentAt: number | undefined, clockOffsetMs: number): MilestoneSpec[] {
  const hooked = refs.filter((r) => r.spec.lifecycle?.preStop);
  if (hooked.length === 0) return [];
  const what = hooked.length === 1 ? `${hooked[0]!.name}: ${describeHandler(hooked[0]!.spec.lifecycle!.preStop!)}` : `${hooked.length} containers`;
  return [
    {
      id: 'teardown.pre-stop-done',
      label: 'preStop hook done (stop signal sent)',
      stepLabel: `preStop hook (${what}); the container gets SIGTERM after it`,
      component: 'kubelet',
      after: ['teardown.killing'],
      candidates: (c) => {
        if (deleteSentAt === undefined) return [];
        // the last StopContainer is the hooked container's when it is the only one with a hook
        const stop = hooked.length === 1 ? terminatingCalls(c.spans, 'StopContainer').at(-1) : undefined;
        const s = firstSnapshot(c, (p) => (p.status?.containerStatuses ?? []).some((st) => st.name === hooked[0]!.name && st.state?.terminated), deleteSentAt);
        const finished = s?.pod.status?.containerStatuses?.find((st) => st.name === hooked[0]!.name)?.state?.terminated?.finishedAt;
        const t = parseSecondsTime(finished, 'status-field-s');
        const afterDelete = t !== undefined && t.ms + t.precisionMs - clockOffsetMs >= deleteSentAt;
        return [...fromSpan(c, stop, 'start', what), ...(hooked.length === 1 && afterDelete ? field(s, finished, 'status-field-s', `${hooked[0]!.name} finishedAt`, what) : [])];
      },
    },
  ];
}
