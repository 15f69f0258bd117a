/**
 * Why a failure happened, not only which class it is: a chain from what podtrace saw (the
 * proximate state, e.g. CrashLoopBackOff) down to what caused it (killed by the kubelet after
 * three failed liveness probes; the probe's own words), with a stable machine-readable code and
 * a hint specific to that cause. Everything comes from the recorded evidence (the pod's spec and
 * statuses, the kubelet's and the scheduler's events, the API server's answer to the POST, the
 * node). Pure.
 */
import { beforeTeardown, containerRefs, containerStatus, kubeletEvents, type Context, type ContainerRef } from './context.js';
import { admissionDenier } from './diagnose.js';
import type { NormalizedEvent } from './kube-objects.js';
import { cause, probeAdvice, probeSummary } from './cause-build.js';
import { schedulingCause } from './cause-scheduling.js';
export { describeProbe } from './cause-build.js';
export { schedulingReasons } from './cause-scheduling.js';
import { classifyPullFailure, probeKind, pullFailureCause } from './messages.js';
import type { Cause, OutcomeClass } from './types.js';

interface Failure {
  class: OutcomeClass;
  reason?: string;
  message?: string;
  phase?: string;
}

/** The cause of `failure`, when the evidence names one. */
export function causeOf(fullCtx: Context, failure: Failure): Cause | undefined {
  const ctx = beforeTeardown(fullCtx);
  switch (failure.class) {
    case 'crash-loop':
    case 'pod-failed':
      return containerCause(ctx, failure) ?? nodeCause(ctx, failure);
    case 'succeeded':
      return completedCause(ctx, failure);
    case 'readiness-never-succeeded':
      return nodeCause(ctx, failure) ?? readinessCause(ctx, failure);
    case 'unschedulable':
      return schedulingCause(ctx, failure);
    case 'container-config-error':
      return configCause(ctx, failure);
    case 'image-pull-not-found':
    case 'image-pull-unauthorized':
    case 'image-pull-backoff':
      return pullCause(ctx, failure);
    case 'admission-rejected':
    case 'validation-rejected':
    case 'forbidden':
    case 'api-error':
      return apiCause(failure);
    case 'sandbox-failure':
      return cause('sandbox-failed', [failure.reason, failure.message], 'The runtime could not set up the pod\'s sandbox or network: read the message (CNI plugin, runtime) and the node\'s containerd and kubelet logs.', [`kubelet ${failure.reason ?? 'FailedCreatePodSandBox'} event`]);
    default:
      return undefined;
  }
}

/** The container a failure is about, from its phase (`container.NAME.ready`), else the first that is not fine. */
function failedRef(ctx: Context, failure: Failure): ContainerRef | undefined {
  const refs = containerRefs(ctx);
  const named = /^container\.(.+)\.(ready|completed|started|pulled)$/.exec(failure.phase ?? '')?.[1];
  const byName = refs.find((r) => r.name === named);
  if (byName) return byName;
  const pod = ctx.latestPod;
  return refs.find((r) => {
    const st = containerStatus(pod, r);
    const t = st?.lastState?.terminated ?? st?.state?.terminated;
    return (st?.restartCount ?? 0) > 0 || (t !== undefined && t.exitCode !== 0);
  });
}

function unhealthy(ctx: Context, ref: ContainerRef, kind: 'liveness' | 'readiness' | 'startup'): { count: number; latest?: NormalizedEvent } {
  const events = kubeletEvents(ctx, 'Unhealthy', ref.fieldPath).filter((e) => probeKind(e.message) === kind);
  return { count: events.reduce((n, e) => n + e.count, 0), ...(events.length > 0 ? { latest: events.reduce((a, b) => (b.lastObservedAt >= a.lastObservedAt ? b : a)) } : {}) };
}

function containerCause(ctx: Context, failure: Failure): Cause | undefined {
  const ref = failedRef(ctx, failure);
  const pod = ctx.latestPod;
  if (!ref || !pod) return undefined;
  const st = containerStatus(pod, ref);
  const last = st?.lastState?.terminated ?? st?.state?.terminated;
  const proximate = failure.reason === 'CrashLoopBackOff' ? `CrashLoopBackOff: container ${ref.name} restarted ${st?.restartCount ?? 0} time(s)` : `${failure.reason ?? 'Failed'}: container ${ref.name}`;

  // the kubelet killed it: a probe, or a hook
  for (const kind of ['liveness', 'startup'] as const) {
    const kill = kubeletEvents(ctx, 'Killing', ref.fieldPath).find((e) => new RegExp(`failed ${kind} probe`).test(e.message));
    if (!kill) continue;
    const probe = probeSummary(kind === 'liveness' ? ref.spec.livenessProbe : ref.spec.startupProbe);
    const { count, latest } = unhealthy(ctx, ref, kind);
    const setting = probe ? ` (${probe.target}, every ${probe.period} s, failureThreshold ${probe.threshold}${probe.delay ? `, initialDelaySeconds ${probe.delay}` : ''})` : '';
    return cause(
      kind === 'liveness' ? 'liveness-probe-kill' : 'startup-probe-kill',
      [proximate, `killed by the kubelet after ${count || 'repeated'} failed ${kind} probe(s)${setting}, not exited on its own${last?.exitCode !== undefined ? ` (its exit code ${last.exitCode} is the kill's)` : ''}`, latest?.message],
      `The ${kind} probe fails, so the kubelet restarts the container: ${probeAdvice(latest?.message, probe?.target ?? 'the probe')}${kind === 'liveness' ? '; if the app only starts slowly, give it a startupProbe or a larger initialDelaySeconds' : '; if the app needs longer to start, raise failureThreshold × periodSeconds'}.`,
      [`kubelet Killing event: ${kill.message}`, latest && `kubelet Unhealthy event (${count}×): ${latest.message}`],
    );
  }
  const hook = kubeletEvents(ctx, 'FailedPostStartHook', ref.fieldPath).at(-1) ?? kubeletEvents(ctx, 'FailedPostStartHook').at(-1);
  if (hook) {
    return cause(
      'poststart-hook-failed',
      [proximate, 'the postStart hook failed, so the kubelet killed the container', hook.message],
      `The container's postStart hook fails: fix its command (or what it needs) — the container is killed each time it does.`,
      [`kubelet FailedPostStartHook event: ${hook.message}`],
    );
  }
  if (last?.reason === 'OOMKilled') {
    const limit = ref.spec.resources?.limits?.['memory'];
    return cause(
      'oom-killed',
      [proximate, `killed by the kernel for using more memory than its limit${limit !== undefined ? ` (${String(limit)})` : ''} (OOMKilled, exit code ${last.exitCode ?? 137})`],
      `The container runs out of memory: raise its memory limit${limit !== undefined ? ` (now ${String(limit)})` : ''} or make it use less.`,
      [`status: lastState.terminated.reason OOMKilled`],
    );
  }
  if (last && last.exitCode !== undefined) {
    const logs = ctx.client.get('logs')?.find((o) => o.data?.container === ref.name)?.data?.lines;
    const tail = Array.isArray(logs) ? logs.filter((l): l is string => typeof l === 'string').slice(-3) : [];
    const restarts = ref.kind === 'init' || (pod.spec?.restartPolicy ?? 'Always') === 'Always';
    if (ref.kind === 'init') {
      return cause(
        'init-container-failed',
        [proximate, `init container ${ref.name} exited with code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}: the app containers wait for it`, ...tail.map((l) => `log: ${l}`)],
        `Init container ${ref.name} fails (exit code ${last.exitCode}): read \`kubectl logs ${pod.metadata?.name ?? 'POD'} -c ${ref.name}\` and check its command and what it waits for.`,
        [`status: initContainerStatuses[${ref.name}].terminated.exitCode ${last.exitCode}`],
      );
    }
    if (last.exitCode === 0 && restarts) {
      return cause(
        'exited-zero',
        [proximate, `the container's process finished by itself (exit code 0) and restartPolicy ${pod.spec?.restartPolicy ?? 'Always'} starts it again`],
        'The container runs to completion, but a pod that should become Ready needs a process that keeps running: fix the command, or run it as a Job (restartPolicy: Never / OnFailure).',
        [`status: lastState.terminated exit code 0${last.reason ? ` (${last.reason})` : ''}`],
      );
    }
    if (last.exitCode !== 0) {
      return cause(
        'exited-error',
        [proximate, `the container exited by itself with code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}${last.message ? `: ${last.message}` : ''}`, ...tail.map((l) => `log: ${l}`)],
        `The container exits with code ${last.exitCode}: read \`kubectl logs ${restarts ? '--previous ' : ''}${pod.metadata?.name ?? 'POD'} -c ${ref.name}\`${tail.length === 0 ? ' (or run with --logs N)' : ''}, and check its command, args and environment.`,
        [`status: ${restarts ? 'lastState' : 'state'}.terminated.exitCode ${last.exitCode}`],
      );
    }
  }
  return undefined;
}

function completedCause(ctx: Context, failure: Failure): Cause {
  const pod = ctx.latestPod;
  const codes = (pod?.status?.containerStatuses ?? []).map((s) => `${s.name} exit code ${s.state?.terminated?.exitCode ?? '?'}`);
  return cause(
    'completed',
    [`Succeeded: every container ran to completion${codes.length ? ` (${codes.join(', ')})` : ''}`, failure.message],
    'The pod did its work and ended: a pod that runs to completion (a Job\'s) is never Ready. Trace a long-running process to time a start to Ready.',
    [`status.phase Succeeded`],
  );
}

/** The pod's node went NotReady while the pod was on it: the kubelet cannot report. */
function nodeCause(ctx: Context, failure: Failure): Cause | undefined {
  const nodeName = ctx.latestPod?.spec?.nodeName;
  const node = [...ctx.nodes].reverse().find((n) => n.node.metadata?.name === nodeName)?.node;
  const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
  if (!node || !ready || ready.status === 'True') return undefined;
  return cause(
    'node-not-ready',
    [`${failure.reason ?? 'not Ready'}`, `node ${nodeName} is Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}: its kubelet stopped reporting`, ready.message],
    `The pod's node ${nodeName} is not Ready: check its kubelet and container runtime; a bare pod is not moved to another node (a Deployment's would be replaced).`,
    [`node ${nodeName} condition Ready=${ready.status}`],
  );
}

function readinessCause(ctx: Context, failure: Failure): Cause | undefined {
  const ref = failedRef(ctx, failure) ?? containerRefs(ctx).find((r) => unhealthy(ctx, r, 'readiness').count > 0);
  if (!ref) return undefined;
  const { count, latest } = unhealthy(ctx, ref, 'readiness');
  if (!latest) return undefined;
  const probe = probeSummary(ref.spec.readinessProbe);
  return cause(
    'readiness-probe-failing',
    [`container ${ref.name} runs but is not Ready`, `its readiness probe failed ${count} time(s)${probe ? ` (${probe.target}, every ${probe.period} s)` : ''}`, latest.message],
    `The readiness probe never passes: ${probeAdvice(latest.message, probe?.target ?? 'the probe')}.`,
    [`kubelet Unhealthy event (${count}×): ${latest.message}`],
  );
}

function configCause(ctx: Context, failure: Failure): Cause | undefined {
  const message = failure.message ?? '';
  const ref = failedRef(ctx, failure);
  const proximate = `${failure.reason ?? 'CreateContainerConfigError'}${ref ? `: container ${ref.name} cannot be created` : ''}`;
  const evidence = [`container status waiting ${failure.reason ?? ''}: ${message}`];
  if (/runAsNonRoot and image (will run as root|has non-numeric user)/.test(message)) {
    return cause(
      'run-as-non-root',
      [proximate, 'securityContext.runAsNonRoot is set, and the image runs as root (or as a user name the kubelet cannot check)', message],
      'The pod requires a non-root user and the image runs as root: set securityContext.runAsUser to a non-zero UID the image works with, or use an image built to run as non-root.',
      evidence,
    );
  }
  const key = /couldn't find key (\S+) in (ConfigMap|Secret) (\S+)/.exec(message);
  if (key) {
    return cause(
      key[2] === 'ConfigMap' ? 'configmap-key-not-found' : 'secret-key-not-found',
      [proximate, `${key[2]} ${key[3]} has no key ${key[1]}`],
      `Add the key ${key[1]} to ${key[2]} ${key[3]}, or fix the key the pod references (or mark the reference optional).`,
      evidence,
    );
  }
  const missing = /(configmap|secret) "([^"]+)" not found/.exec(message);
  if (missing) {
    const kind = missing[1] === 'configmap' ? 'ConfigMap' : 'Secret';
    return cause(
      missing[1] === 'configmap' ? 'configmap-not-found' : 'secret-not-found',
      [proximate, `the ${kind} "${missing[2]}" it references does not exist`],
      `Create the ${kind} "${missing[2]}" in namespace ${ctx.header.namespace}, or fix the name the pod references (or mark it optional).`,
      evidence,
    );
  }
  if (failure.reason === 'ErrImageNeverPull') {
    const node = ctx.latestPod?.spec?.nodeName;
    return cause(
      'image-never-pull',
      [proximate, `imagePullPolicy is Never and the image is not on node ${node ?? '(unknown)'}`],
      `The image must already be on the node with imagePullPolicy Never: load it there (kind load docker-image, minikube image load) or use IfNotPresent.`,
      evidence,
    );
  }
  if (failure.reason === 'InvalidImageName') {
    return cause('invalid-image-name', [proximate, message], 'The image reference is not valid: fix its name (lowercase repository, tag after ":", digest after "@").', evidence);
  }
  return cause('create-container-error', [proximate, message], 'The runtime refused to create the container: read its message (the command, a mount, the security context).', evidence);
}

function pullCause(ctx: Context, failure: Failure): Cause | undefined {
  const message = failure.message ?? '';
  const image = /(?:pull|pulling) image "([^"]+)"/i.exec(message)?.[1];
  const ref = /failed to resolve reference "([^"]+)"/.exec(message)?.[1] ?? image;
  const host = ref?.includes('/') && /[.:]/.test(ref.split('/')[0]!) ? ref.split('/')[0] : 'docker.io';
  const node = ctx.latestPod?.spec?.nodeName ?? 'the node';
  const proximate = `${failure.reason ?? 'ErrImagePull'}: image ${image ?? '(unknown)'}`;
  const why = pullFailureCause(message);
  const evidence = [`kubelet pull failure: ${message}`];
  const kind = classifyPullFailure(message);
  if (kind === 'unauthorized') {
    return cause('registry-unauthorized', [proximate, `the registry ${host} refused ${node}'s pull without credentials`, why], `The registry ${host} needs credentials: add an imagePullSecret for it to the pod (or its ServiceAccount), or check the image name (some registries answer "unauthorized" for images that do not exist).`, evidence);
  }
  if (kind === 'not-found') return notFoundCause(ctx, image, ref, host, proximate, why, evidence);
  if (/pull QPS exceeded/i.test(message)) {
    const read = ctx.client.get('kubelet-config')?.find((o) => o.data?.['node'] === ctx.latestPod?.spec?.nodeName)?.data;
    const qps = typeof read?.['registryPullQPS'] === 'number' ? read['registryPullQPS'] : undefined;
    const burst = typeof read?.['registryBurst'] === 'number' ? read['registryBurst'] : undefined;
    const limit = qps !== undefined ? `registryPullQPS ${qps}/s${burst !== undefined ? `, registryBurst ${burst}` : ''}` : 'registryPullQPS';
    const readError = typeof read?.['error'] === 'string' ? read['error'] : undefined;
    const settings = read === undefined ? '' : readError !== undefined ? ` (its settings could not be read: ${readError})` : ` (${limit}, from its /configz)`;
    return cause(
      'registry-pull-qps',
      [proximate, `the kubelet on ${node} refused the pull itself: its own limit on pulls per second was used up${settings}`, why],
      `The kubelet on ${node} limits image pulls to ${limit}${qps !== undefined ? '' : ' (default 5/s, burst 10)'}, and this pod's pulls (or others' at the same time) went over it: raise registryPullQPS and registryBurst in its configuration (0 removes the limit), or pull fewer images at once (imagePullPolicy IfNotPresent).`,
      read === undefined ? evidence : [...evidence, readError !== undefined ? `kubelet /configz on ${node}: not read (${readError})` : `kubelet /configz on ${node}: ${limit}`],
    );
  }
  if (/connection refused|no such host|i\/o timeout|network is unreachable|no route to host|dial tcp|TLS handshake|x509|server gave HTTP response to HTTPS/i.test(message)) {
    return cause('registry-unreachable', [proximate, `${node} cannot reach the registry ${host}`, why], `Node ${node} cannot reach ${host} (${why}): check the registry's address, the node's DNS, network and proxy, and its TLS settings.`, evidence);
  }
  return cause('pull-failed', [proximate, why], 'The pull failed: read the runtime\'s message.', evidence);
}

/** A pull "not found": the repository or its tag, when the registry's tags list was asked (an `image-lookup`). */
function notFoundCause(ctx: Context, image: string | undefined, ref: string | undefined, host: string, proximate: string, why: string, evidence: string[]): Cause {
  const lookup = (ctx.client.get('image-lookup') ?? []).map((o) => o.data as unknown as ImageLookup).find((d) => d.image === image);
  const what = ref ?? 'such image';
  if (lookup?.answer === 'repository-missing') {
    return cause(
      'repository-not-found',
      [proximate, `the registry ${lookup.registry} has no repository ${lookup.repository}`],
      `The registry ${lookup.registry} has no repository ${lookup.repository}: fix the image's name (its tags list answered NAME_UNKNOWN).`,
      [...evidence, `registry tags list (${lookup.asked}): repository ${lookup.repository} unknown`],
    );
  }
  if (lookup?.answer === 'tag-missing' && lookup.tag !== undefined) {
    const tags = lookup.tags ?? [];
    const listed = tags.length === 0 ? 'it has no tags' : `its tags: ${tags.join(', ')}${lookup.more ? ', …' : ''}`;
    return cause(
      'tag-not-found',
      [proximate, `the repository ${lookup.repository} on ${lookup.registry} has no tag ${lookup.tag}`],
      `The repository ${lookup.repository} exists on ${lookup.registry} but has no tag ${lookup.tag} (${listed}): fix the tag.`,
      [...evidence, `registry tags list (${lookup.asked}): ${tags.length === 0 ? 'no tags' : tags.join(', ')}${lookup.more ? ' and more' : ''}`],
    );
  }
  const unknown = lookup?.answer === 'unknown' ? ` (podtrace could not ask the registry: ${lookup.error})` : lookup?.answer === 'tag-present' ? ' (the registry lists the tag: the image may have no manifest for the node\'s platform)' : '';
  return cause(
    'image-not-found',
    [proximate, `the registry ${host} has no ${what}`, why],
    `The registry ${host} has no ${what}: check the repository name and the tag${unknown || ' (the runtime does not say which of the two is missing)'}.`,
    lookup ? [...evidence, `registry tags list (${lookup.asked}): ${lookup.answer === 'unknown' ? lookup.error : `lists ${lookup.tag}`}`] : evidence,
  );
}

interface ImageLookup {
  image: string;
  registry: string;
  repository: string;
  tag?: string;
  asked: string;
  answer: 'repository-missing' | 'tag-missing' | 'tag-present' | 'unknown';
  tags?: string[];
  more?: boolean;
  error?: string;
}

function apiCause(failure: Failure): Cause | undefined {
  const message = failure.message ?? '';
  const evidence = [`API server answer: ${message}`];
  const quota = /exceeded quota: ([^,]+), requested: ([^,]+(?:,[^,:]+)*?), used: ([^,]+(?:,[^,:]+)*?), limited: (.+)$/.exec(message);
  if (quota) {
    return cause('quota-exceeded', [`${failure.reason ?? 'Forbidden'}: the create was refused`, `ResourceQuota ${quota[1]} would be exceeded (requested ${quota[2]}, used ${quota[3]}, limited ${quota[4]})`], `The namespace's ResourceQuota ${quota[1]} is used up: free some of it, ask for more, or request less.`, evidence);
  }
  if (/exceeded quota|must specify (limits|requests)/.test(message)) {
    return cause('quota-exceeded', [`${failure.reason ?? 'Forbidden'}: the create was refused`, message], 'A ResourceQuota refused the pod: set the requests and limits it requires, or stay within it (kubectl describe quota).', evidence);
  }
  const limit = /(maximum|minimum) (\S+) usage per (Container|Pod) is ([^,]+), (?:but|and) (\w+) is ([^.,]+)/.exec(message);
  if (limit) {
    return cause('limit-range', [`${failure.reason ?? 'Forbidden'}: the create was refused`, `a LimitRange sets the ${limit[1]} ${limit[2]} per ${limit[3]} to ${limit[4]}, and the pod's ${limit[5]} is ${limit[6]}`], `Keep the pod's ${limit[2]} ${limit[5]} within the namespace's LimitRange (${limit[1]} ${limit[4]}; kubectl describe limitrange).`, evidence);
  }
  const pss = /violates PodSecurity "([^"]+)": (.*)$/.exec(message);
  if (pss) {
    return cause('pod-security', [`${failure.reason ?? 'Forbidden'}: the create was refused`, `the namespace enforces PodSecurity ${pss[1]}`, pss[2]], `Change the pod to meet PodSecurity ${pss[1]} (each violation is listed), or run it in a namespace with a looser level.`, evidence);
  }
  const denier = admissionDenier(message);
  if (denier) {
    return cause(denier.kind === 'policy' ? 'admission-policy' : 'admission-webhook', [`${failure.reason ?? 'denied'}: the create was refused`, `${denier.kind === 'policy' ? 'ValidatingAdmissionPolicy' : 'admission webhook'} "${denier.name}" denied it`, message], `Change the pod to satisfy "${denier.name}", or ask its owner.`, evidence);
  }
  if (failure.class === 'validation-rejected') return cause('invalid-spec', [`${failure.reason ?? 'Invalid'}: the create was refused`, message], 'Fix the fields the API server names in its message.', evidence);
  if (failure.class === 'forbidden') return cause('rbac-forbidden', [`${failure.reason ?? 'Forbidden'}: podtrace may not create pods here`, message], 'Ask for RBAC permission to create pods in this namespace (deploy/rbac.yaml lists what podtrace needs).', evidence);
  if (failure.class === 'api-error' && failure.reason === 'AlreadyExists') return cause('name-taken', [`AlreadyExists`, message], 'A pod of that name exists: choose another --name or delete it.', evidence);
  return undefined;
}

/** The cause's first link is the state podtrace saw; the rest, nearest cause first. */
export function causeLine(c: Cause): string {
  return c.chain.join(' ← ');
}

