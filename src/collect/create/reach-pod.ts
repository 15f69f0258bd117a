/**
 * --expose from inside the cluster: a short-lived pod (podtrace's reach image, hack/images/reach)
 * tries the Service's cluster IP and name from a pod's network namespace and resolver, as the
 * Service's clients would, every REACH_INTERVAL_MS, and prints one JSON line per target once it is
 * settled, with its tries' start times on its node's clock (and, until then, a "pending" line every
 * ten tries). podtrace creates it right after the
 * Service (so it is running before the endpoint turns ready), reads its log once the traced pod is
 * Ready, and deletes it with the Service. It is kept off the traced pod's node when the scheduler
 * can (a preferred anti-affinity), so it does not compete with it for the kubelet.
 */
import { describeKubeError, isKubeError, KubeApiError } from '../../kube/errors.js';
import { pause } from '../stop.js';
import { REACH_INTERVAL_MS, type ReachTargets } from './service-reach.js';
import type { RunState } from './state.js';

const CONTAINER = 'reach';
/** Between two looks at the probe pod while podtrace waits for its answers. */
const POLL_MS = 250;
/** How long podtrace waits for the probe pod to be gone after its DELETE (it has exited, or stops at SIGTERM). */
const GONE_WAIT_MS = 15_000;
/** Waiting reasons after which the probe's container will not start without someone's help. */
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError']);
/** The end of the probe's log that holds each target's last line (a line is under 400 bytes). */
const LOG_TAIL_LINES = 20;
const LOG_LIMIT_BYTES = 65_536;

/** The pod resolves through its own resolver: unless the cluster is known to have no DNS Service (podtrace may not be allowed to look). */
function resolves(targets: ReachTargets): boolean {
  return targets.clusterIP !== undefined && targets.clusterDns !== 'absent';
}

export function reachPodName(podName: string): string {
  return `${podName}-reach`;
}

/** The probe pod: non-root, no token, no privileges, read-only root, small requests (restricted PodSecurity accepts it). */
export function reachPodManifest(state: RunState, image: string, targets: ReachTargets, forMs: number): Record<string, unknown> {
  const { request, namespace, podName } = state;
  const args = [`-interval=${REACH_INTERVAL_MS}ms`, `-for=${Math.ceil(forMs / 1000)}s`];
  if (targets.clusterIP !== undefined) args.push(`-connect=${targets.clusterIP}:${targets.port}`);
  if (resolves(targets)) args.push(`-resolve=${targets.name}=${targets.clusterIP}`);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: reachPodName(podName),
      namespace,
      labels: { [request.managedBy.key]: request.managedBy.value, 'podtrace.dev/role': 'reach' },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { [request.runLabel.key]: request.runLabel.value } }, topologyKey: 'kubernetes.io/hostname' } },
          ],
        },
      },
      containers: [
        {
          name: CONTAINER,
          image,
          args,
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
}

export interface ReachPod {
  name: string;
  image: string;
  /** How many result lines it prints (one per target). */
  expected: number;
  /** The create was answered (the pod may exist until DELETE removed it). */
  mayExist: boolean;
  /** The DELETE, once sent: resolves when the pod is gone or the wait gave up. */
  gone?: Promise<void>;
}

/** Creates the probe pod; records `reach-pod` with the answer. Never throws: without it the trace has the client's vantage only. */
export async function startReachPod(state: RunState, image: string, targets: ReachTargets, forMs: number): Promise<ReachPod | undefined> {
  const { api, log, namespace } = state;
  const manifest = reachPodManifest(state, image, targets, forMs);
  const name = reachPodName(state.podName);
  const expected = (targets.clusterIP !== undefined ? 1 : 0) + (resolves(targets) ? 1 : 0);
  if (expected === 0) return undefined;
  const probe: ReachPod = { name, image, expected, mayExist: true };
  try {
    const response = await api.createPod(namespace, manifest, 'createReachPod');
    log.client('reach-pod', { pod: name, image, created: true, status: response.status });
    return probe;
  } catch (error) {
    if (error instanceof KubeApiError) probe.mayExist = false;
    log.client('reach-pod', { pod: name, image, created: false, error: describeKubeError(error) });
    state.progress.note(`warning: could not create the in-cluster reach pod (${describeKubeError(error)}): the Service is tried from podtrace's machine only`);
    return probe.mayExist ? probe : undefined;
  }
}

interface ProbeLook {
  node?: string;
  phase?: string;
  started: boolean;
  stuck?: string;
}

function look(pod: unknown): ProbeLook {
  const p = pod as { spec?: { nodeName?: string }; status?: { phase?: string; containerStatuses?: Array<{ name?: string; state?: Record<string, { reason?: string; message?: string } | undefined> }> } };
  const status = p.status?.containerStatuses?.find((c) => c.name === CONTAINER);
  const waiting = status?.state?.['waiting'];
  return {
    ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
    ...(p.status?.phase ? { phase: p.status.phase } : {}),
    started: status?.state?.['running'] !== undefined || status?.state?.['terminated'] !== undefined,
    ...(waiting?.reason !== undefined && STUCK.has(waiting.reason) ? { stuck: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` } : {}),
  };
}

/**
 * Each target's last line in the probe's log (JSON objects with a `what`; anything else is not the
 * probe's output): its result once settled, else where it stood (`pending`).
 */
export function parseReachLog(text: string): Array<Record<string, unknown>> {
  const last = new Map<string, Record<string, unknown>>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as Record<string, unknown> | null;
      if (value !== null && typeof value === 'object' && (value.what === 'route' || value.what === 'dns')) last.set(value.what, value);
    } catch {
      // a line cut by limitBytes: the next read has it whole
    }
  }
  return [...last.values()];
}

/**
 * Waits (at most until `deadline`, client clock) for the probe's results and records each as a
 * `service-reach` observation from the 'pod' vantage, with the node it ran on; records
 * `reach-pod-result` saying what became of the probe when it has fewer results than targets.
 */
export async function collectReachPod(state: RunState, probe: ReachPod, deadline: number, signal: AbortSignal): Promise<void> {
  const { api, log, namespace } = state;
  const clock = log.clock;
  let last: ProbeLook = { started: false };
  let results: Array<Record<string, unknown>> = [];
  let error: string | undefined;
  while (!signal.aborted) {
    try {
      last = look(await api.getPod(namespace, probe.name));
      if (last.started) results = parseReachLog(await api.podLog(namespace, probe.name, CONTAINER, LOG_LIMIT_BYTES, LOG_TAIL_LINES));
      error = undefined;
    } catch (e) {
      error = describeKubeError(e);
      if (isKubeError(e, 'not-found')) break;
    }
    if (settled(results) >= probe.expected || last.stuck !== undefined || last.phase === 'Failed' || clock.now() >= deadline) break;
    // Succeeded: the log is complete; one more read had it all unless it was cut
    if (last.phase === 'Succeeded' && last.started) break;
    await pause(Math.min(POLL_MS, Math.max(0, deadline - clock.now())), signal);
  }
  for (const r of results) log.client('service-reach', { ...r, vantage: 'pod', pod: probe.name, ...(last.node ? { node: last.node } : {}) });
  if (settled(results) < probe.expected) {
    const why =
      last.stuck ??
      error ??
      (last.phase === 'Failed'
        ? 'the probe failed (see its log)'
        : signal.aborted
          ? 'stopped before the probe settled'
          : last.started
            ? 'not settled when podtrace stopped waiting'
            : `it had not started (${last.phase ?? 'not scheduled'})`);
    log.client('reach-pod-result', { pod: probe.name, ...(last.node ? { node: last.node } : {}), ...(last.phase ? { phase: last.phase } : {}), results: settled(results), error: why });
  }
}

function settled(results: ReadonlyArray<Record<string, unknown>>): number {
  return results.filter((r) => r['pending'] !== true).length;
}

/** Sends the probe pod's DELETE; `probe.gone` settles once it is gone (or after GONE_WAIT_MS). */
export function deleteReachPod(state: RunState, probe: ReachPod): void {
  if (!probe.mayExist || probe.gone !== undefined) return;
  const { api, namespace } = state;
  probe.gone = (async () => {
    try {
      await api.deletePod(namespace, probe.name, 'deleteReachPod');
    } catch (error) {
      if (isKubeError(error, 'not-found')) {
        probe.mayExist = false;
        return;
      }
      state.progress.note(`warning: could not delete the reach pod (${describeKubeError(error)}). Clean up with: kubectl delete pod -n ${namespace} ${probe.name}`);
      return;
    }
    const until = state.log.clock.now() + GONE_WAIT_MS;
    while (state.log.clock.now() < until) {
      try {
        await api.getPod(namespace, probe.name);
      } catch (error) {
        if (isKubeError(error, 'not-found')) {
          probe.mayExist = false;
          return;
        }
      }
      await pause(POLL_MS);
    }
  })();
}
