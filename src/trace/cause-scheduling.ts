/** The cause of an unschedulable pod, from the scheduler's message and, when read, the nodes as they were (cause.ts). Pure. */
import { cause } from './cause-build.js';
import { schedulerEvents, type Context } from './context.js';
import { describeTaint, parseQuantity, tolerates, type Pod, type Taint, type Toleration } from './kube-objects.js';
import type { Cause } from './cause-types.js';

interface Failure {
  message?: string;
}

/** The scheduler's "0/N nodes are available: ..." reasons, each with how many nodes gave it. */
export function schedulingReasons(message: string): Array<{ nodes?: number; text: string }> {
  const body = /nodes are available: (.*?)(?:\s*preemption:|$)/s.exec(message)?.[1] ?? message;
  return body
    .replace(/\.\s*$/, '')
    .split(/,\s*|\.\s+/)
    .map((part) => part.trim())
    .filter((part) => part !== '' && !/no new claims to deallocate/.test(part))
    .map((part) => {
      const m = /^(\d+)\s+(.*)$/.exec(part);
      return m ? { nodes: Number(m[1]), text: m[2]! } : { text: part };
    });
}

export function schedulingCause(ctx: Context, failure: Failure): Cause | undefined {
  const message = failure.message ?? schedulerEvents(ctx, 'FailedScheduling').at(-1)?.message;
  if (!message) return undefined;
  // the spec as the person wrote it (the API server writes 1000 cpu back as 1k)
  const spec = (ctx.submitted ?? ctx.stored ?? ctx.latestPod)?.spec as (Pod['spec'] & Record<string, unknown>) | undefined;
  const nodes = nodesAtFailure(ctx);
  const reasons = schedulingReasons(message);
  const listed = reasons.map((r) => (r.nodes !== undefined ? `${r.nodes} node(s): ${r.text.replace(/^node\(s\)\s*/, '')}` : r.text));
  const proximate = `Unschedulable: ${/^0\/(\d+) nodes/.exec(message)?.[0] ?? 'no node'} fit`;
  // the scheduler's count of nodes per reason backs each cause; only with no known cause is it the chain
  const evidence = [`scheduler FailedScheduling: ${message}`, ...listed.map((l) => `scheduler: ${l}`)];
  const claim = /persistentvolumeclaim "([^"]+)" not found/.exec(message)?.[1];
  if (claim) {
    return cause('pvc-not-found', [proximate, `the PersistentVolumeClaim "${claim}" it mounts does not exist`], `Create the PersistentVolumeClaim "${claim}" in namespace ${ctx.header.namespace}, or fix the volume's claimName.`, evidence);
  }
  if (/unbound immediate PersistentVolumeClaims/.test(message)) {
    return cause('pvc-unbound', [proximate, 'a PersistentVolumeClaim it mounts is not bound to a volume'], 'A PersistentVolumeClaim of the pod is unbound: check its StorageClass and provisioner (kubectl describe pvc).', evidence);
  }
  const insufficient = [...message.matchAll(/Insufficient ([\w./-]*\w)/g)].map((m) => m[1]!);
  if (insufficient.length > 0) {
    const asked = insufficient.map((r) => `${r} ${requested(spec, r) ?? '(none requested)'}`).join(', ');
    const offered = nodes
      ? insufficient.map((r) => {
          const best = nodes.reduce<{ name: string; value: string } | undefined>((top, n) => {
            const v = n.allocatable?.[r];
            return v !== undefined && (top === undefined || (parseQuantity(v) ?? 0) > (parseQuantity(top.value) ?? 0)) ? { name: n.name, value: v } : top;
          }, undefined);
          return best ? `${r} ${best.value} (${best.name})` : `${r}: no node has any`;
        })
      : [];
    return cause(
      'insufficient-resources',
      [proximate, `not enough allocatable ${insufficient.join(' and ')} for the pod's requests (${asked})`, offered.length > 0 && `the most any node allocates: ${offered.join(', ')}`],
      `No node has ${insufficient.join(' and ')} free for the pod's requests (${asked}): lower the requests, free capacity, or add a node (kubectl describe nodes: Allocatable and Allocated resources).`,
      evidence,
    );
  }
  if (/didn't have free ports/.test(message)) {
    const ports = (spec?.containers ?? []).flatMap((c) => ((c as { ports?: Array<{ hostPort?: number }> }).ports ?? []).map((p) => p.hostPort).filter((p): p is number => p !== undefined));
    return cause(
      'host-port-conflict',
      [proximate, `the hostPort${ports.length > 1 ? 's' : ''} ${ports.join(', ') || 'it asks for'} ${ports.length > 1 ? 'are' : 'is'} already taken on the nodes it could use`],
      `Another pod holds hostPort ${ports.join(', ') || 'the same port'} on the node: free it, pick another hostPort, or drop hostPort and use a Service.`,
      evidence,
    );
  }
  if (/untolerated taint/.test(message)) {
    const tolerations = ((spec?.['tolerations'] as Toleration[] | undefined) ?? []);
    const blocking = (nodes ?? []).flatMap((n) => (n.taints ?? []).filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tolerations, t)).map((t) => ({ node: n.name, taint: t })));
    const named = /untolerated taint\(?s?\)? ?\{([^}]*)\}/.exec(message)?.[1];
    const which = blocking.length > 0 ? blocking.map((b) => `${b.node}: ${describeTaint(b.taint)}`).join(', ') : named !== undefined ? `{${named}}` : undefined;
    const first = blocking[0];
    return cause(
      'untolerated-taint',
      [proximate, which ? `taints the pod does not tolerate: ${which}` : 'a node carries a taint the pod does not tolerate (podtrace could not read the nodes to name it)'],
      first
        ? `Add a toleration for ${describeTaint(first.taint)} to the pod, or remove the taint (kubectl taint nodes ${first.node} ${first.taint.key}-).`
        : 'Add a toleration for the node\'s taint to the pod, or remove the taint (kubectl describe nodes | grep Taints).',
      [...evidence, ...(blocking.length > 0 ? ['nodes read when the run stopped (their spec.taints)'] : [])],
    );
  }
  if (/didn't match Pod's node affinity\/selector|didn't satisfy plugin\(s\) \[[^\]]*NodeAffinity/.test(message)) {
    const selector = spec?.['nodeSelector'] as Record<string, string> | undefined;
    const wanted = selector && Object.keys(selector).length > 0 ? `nodeSelector ${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',')}` : 'its node affinity';
    return cause(
      'node-selector-mismatch',
      [proximate, `no node matches ${wanted}`],
      `No node carries the labels the pod asks for (${wanted}): fix the selector or affinity, or label a node (kubectl get nodes --show-labels).`,
      evidence,
    );
  }
  return cause('unschedulable-other', [proximate, ...listed], 'Read the scheduler\'s reasons per node above and change the pod or the nodes accordingly.', evidence);
}

interface NodeAtFailure {
  name: string;
  taints?: Taint[];
  allocatable?: Record<string, string>;
}

function nodesAtFailure(ctx: Context): NodeAtFailure[] | undefined {
  const nodes = ctx.client.get('nodes-at-failure')?.[0]?.data?.nodes;
  return Array.isArray(nodes) ? (nodes as NodeAtFailure[]) : undefined;
}

function requested(spec: Pod['spec'] | undefined, resource: string): string | undefined {
  const values = (spec?.containers ?? []).map((c) => c.resources?.requests?.[resource]).filter((v) => v !== undefined);
  return values.length > 0 ? values.map(String).join(' + ') : undefined;
}

