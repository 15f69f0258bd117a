/**
 * The rows of each container: image pull (or present), created, started,
 * running, ready, and its failures; init containers gate the next one. Pure.
 */
import { backOffEvents, containerStatus, kubeletEvents, pullFailedEvents, type Context, type ContainerRef } from './context.js';
import { describeHandler, type Pod } from './kube-objects.js';
import { classifyPullFailure, parsePulledMessage, probeKind, pullFailureCause } from './messages.js';
import { formatMs } from './format-ms.js';
import { fromEvent, fromSpan, firstEvent, firstSnapshot, watched, field, type MilestoneSpec } from './milestone-spec.js';
import { criCall } from './component-spans.js';

export function containerRows(ref: ContainerRef, gate: string): MilestoneSpec[] {
  const name = ref.name;
  const base = `container.${name}`;
  const rows: MilestoneSpec[] = [];
  const kindLabel = ref.kind === 'app' ? 'container' : ref.kind === 'sidecar' ? 'sidecar' : 'init container';
  const pulledEvent = (ctx: Context) => firstEvent(kubeletEvents(ctx, 'Pulled', ref.fieldPath));
  const pulledKind = (ctx: Context) => {
    const e = pulledEvent(ctx);
    return e ? parsePulledMessage(e.message)?.kind : undefined;
  };

  rows.push({
    id: `${base}.pulling`,
    label: `${kindLabel} ${name}: pulling image`,
    stepLabel: 'kubelet gets to the container (earlier containers, volumes)',
    component: 'kubelet',
    container: name,
    after: [gate],
    candidates: (ctx) => [
      ...fromEvent(firstEvent(kubeletEvents(ctx, 'Pulling', ref.fieldPath)), ref.spec.image),
      ...fromSpan(ctx, criCall(ctx.spans, 'PullImage', name), 'start', ref.spec.image),
    ],
  });
  rows.push({
    id: `${base}.pull-failed`,
    failure: true,
    label: `${kindLabel} ${name}: image pull failed`,
    stepLabel: 'image pull (failed)',
    component: 'runtime',
    container: name,
    after: [`${base}.pulling`],
    candidates: (ctx) => {
      const failed = pullFailedEvents(ctx, ref);
      const first = firstEvent(failed);
      if (!first) return [];
      const attempts = failed.reduce((n, e) => n + e.count, 0);
      const kind = classifyPullFailure(first.message);
      const cause = pullFailureCause(first.message);
      const what = kind !== 'other' ? kind : cause ? `pull error: ${cause}` : 'pull error';
      const detail = `${what}${attempts > 1 ? `, ${attempts} attempts` : ''}`;
      return fromEvent(first, detail);
    },
  });
  rows.push({
    id: `${base}.pull-back-off`,
    failure: true,
    label: `${kindLabel} ${name}: image pull backing off`,
    stepLabel: 'kubelet waits before pulling again (ImagePullBackOff)',
    component: 'kubelet',
    container: name,
    after: [`${base}.pull-failed`],
    candidates: (ctx) => {
      const e = firstEvent(backOffEvents(ctx, ref, 'pull'));
      const s = firstSnapshot(ctx, (p) => containerStatus(p, ref)?.state?.waiting?.reason === 'ImagePullBackOff');
      return [...fromEvent(e, e?.message), ...watched(s, `${name} waiting ImagePullBackOff`)];
    },
  });
  rows.push({
    id: `${base}.pulled`,
    label: `${kindLabel} ${name}: image pulled`,
    stepLabel: 'image pull (runtime)',
    component: 'runtime',
    container: name,
    after: [`${base}.pulling`],
    candidates: (ctx) => {
      if (pulledKind(ctx) !== 'pulled') return [];
      const msg = parsePulledMessage(pulledEvent(ctx)!.message);
      const detail =
        msg?.kind === 'pulled'
          ? [
              `kubelet: ${formatMs(msg.pullMs)}`,
              msg.includingWaitingMs !== undefined ? `${formatMs(msg.includingWaitingMs)} incl. waiting` : undefined,
              msg.imageSizeBytes !== undefined ? `${msg.imageSizeBytes} bytes` : undefined,
            ]
              .filter(Boolean)
              .join(', ')
          : undefined;
      return [...fromEvent(pulledEvent(ctx), detail), ...fromSpan(ctx, criCall(ctx.spans, 'PullImage', name), 'end', detail)];
    },
  });
  rows.push({
    id: `${base}.image-present`,
    exclusiveWith: [`${base}.pulling`, `${base}.pulled`],
    label: `${kindLabel} ${name}: image already present`,
    stepLabel: 'kubelet gets to the container, image found on the node',
    component: 'kubelet',
    container: name,
    after: [gate],
    candidates: (ctx) => (pulledKind(ctx) === 'present' ? fromEvent(pulledEvent(ctx), ref.spec.image) : []),
  });
  rows.push({
    id: `${base}.created`,
    label: `${kindLabel} ${name}: created`,
    stepLabel: 'create container (runtime)',
    component: 'runtime',
    container: name,
    after: [`${base}.pulled`, `${base}.image-present`],
    candidates: (ctx) => [...fromEvent(firstEvent(kubeletEvents(ctx, 'Created', ref.fieldPath))), ...fromSpan(ctx, criCall(ctx.spans, 'CreateContainer', name), 'end')],
  });
  rows.push({
    id: `${base}.started`,
    label: `${kindLabel} ${name}: started`,
    stepLabel: 'start container (runtime)',
    component: 'runtime',
    container: name,
    expects: `kubelet Started event for ${name}`,
    after: [`${base}.created`],
    candidates: (ctx) => {
      const hasStarted = (p: Pod) => {
        const st = containerStatus(p, ref)?.state;
        return Boolean(st?.running?.startedAt || st?.terminated?.startedAt);
      };
      const s = firstSnapshot(ctx, hasStarted);
      const st = s ? containerStatus(s.pod, ref)?.state : undefined;
      return [
        ...fromEvent(firstEvent(kubeletEvents(ctx, 'Started', ref.fieldPath))),
        ...fromSpan(ctx, criCall(ctx.spans, 'StartContainer', name), 'end'),
        // with a postStart hook the status says running only once the hook returned: no time for the start itself
        ...(ref.spec.lifecycle?.postStart ? [] : watched(s, `${name} running`)),
        ...field(s, st?.running?.startedAt ?? st?.terminated?.startedAt, 'status-field-s', `${name} state startedAt`),
      ];
    },
  });
  const postStart = ref.spec.lifecycle?.postStart;
  if (postStart) {
    const what = describeHandler(postStart);
    rows.push({
      id: `${base}.post-start-done`,
      label: `${kindLabel} ${name}: postStart hook done`,
      stepLabel: `postStart hook (${what}); the container is not running until it returns`,
      component: 'kubelet',
      container: name,
      after: [`${base}.started`],
      candidates: (ctx) => {
        // an exec hook runs as the ExecSync right after the container's StartContainer; other hooks have no span
        const exec = postStart.exec ? criCall(ctx.spans, 'ExecSync', name) : undefined;
        const running = firstSnapshot(ctx, (p) => Boolean(containerStatus(p, ref)?.state?.running));
        return [...fromSpan(ctx, exec, 'end', what), ...watched(running, `${name} reported running`, what)];
      },
    });
    rows.push({
      id: `${base}.post-start-failed`,
      failure: true,
      label: `${kindLabel} ${name}: postStart hook failed`,
      stepLabel: `postStart hook (${what}) fails; the kubelet kills the container`,
      component: 'kubelet',
      container: name,
      after: [`${base}.started`],
      candidates: (ctx) => fromEvent(firstEvent(kubeletEvents(ctx, 'FailedPostStartHook', ref.fieldPath)), what),
    });
  }
  rows.push({
    id: `${base}.exited`,
    failure: true,
    label: `${kindLabel} ${name}: exited`,
    stepLabel: 'container runs, then exits',
    component: 'runtime',
    container: name,
    after: [`${base}.started`],
    candidates: (ctx) => {
      const deleteSentAt = ctx.deleteSentAt ?? Infinity;
      const exited = (p: Pod) => {
        const st = containerStatus(p, ref);
        const t = st?.lastState?.terminated ?? st?.state?.terminated;
        // An init container exiting 0 is its success (the .completed row), not a failure.
        return t !== undefined && !(ref.kind === 'init' && t.exitCode === 0);
      };
      const s = ctx.snapshots.find((x) => x.observedAt < deleteSentAt && x.type !== 'DELETED' && exited(x.pod));
      const st = s ? containerStatus(s.pod, ref) : undefined;
      const t = st?.lastState?.terminated ?? st?.state?.terminated;
      const detail = t ? `exit code ${t.exitCode ?? '?'}${t.reason ? ` (${t.reason})` : ''}` : undefined;
      return [...watched(s, `${name} terminated`, detail), ...field(s, t?.finishedAt, 'status-field-s', `${name} finishedAt`, detail)];
    },
  });
  rows.push({
    id: `${base}.crash-loop-back-off`,
    failure: true,
    label: `${kindLabel} ${name}: CrashLoopBackOff`,
    stepLabel: 'kubelet restarts it, then backs off',
    component: 'kubelet',
    container: name,
    after: [`${base}.exited`],
    candidates: (ctx) => {
      const e = firstEvent(backOffEvents(ctx, ref, 'restart'));
      return [
        ...fromEvent(e),
        ...watched(
          firstSnapshot(ctx, (p) => containerStatus(p, ref)?.state?.waiting?.reason === 'CrashLoopBackOff'),
          `${name} waiting CrashLoopBackOff`,
        ),
      ];
    },
  });
  if (ref.kind === 'init') {
    rows.push({
      id: `${base}.completed`,
      label: `init container ${name}: completed`,
      stepLabel: `init container ${name} runs to completion`,
      component: 'kubelet',
      container: name,
      after: [`${base}.started`],
      candidates: (ctx) => {
        const s = firstSnapshot(ctx, (p) => containerStatus(p, ref)?.state?.terminated?.exitCode === 0);
        const t = s ? containerStatus(s.pod, ref)?.state?.terminated : undefined;
        return [...watched(s, `${name} terminated, exit 0`), ...field(s, t?.finishedAt, 'status-field-s', `${name} finishedAt`)];
      },
    });
  }
  return rows;
}

export function containerReadyRows(ref: ContainerRef, clockOffsetMs: number): MilestoneSpec[] {
  return [
    {
      id: `container.${ref.name}.readiness-failed`,
      label: `container ${ref.name}: readiness probe failed`,
      stepLabel: 'first readiness probes',
      component: 'kubelet',
      container: ref.name,
      after: [`container.${ref.name}.started`],
      candidates: (ctx) => {
        // Only failures before the container was seen ready are part of its start (--observe sees later ones).
        const readyAt = firstSnapshot(ctx, (p) => containerStatus(p, ref)?.ready === true)?.observedAt ?? Infinity;
        const unhealthy = kubeletEvents(ctx, 'Unhealthy', ref.fieldPath).filter(
          (e) => probeKind(e.message) === 'readiness' && (e.first === undefined || e.first.ms - clockOffsetMs < readyAt),
        );
        const e = firstEvent(unhealthy);
        return fromEvent(e, e ? `${e.message}${e.count > 1 ? ` (${e.count} times)` : ''}` : undefined);
      },
    },
    containerReadyRow(ref),
  ];
}

function containerReadyRow(ref: ContainerRef): MilestoneSpec {
  return {
    id: `container.${ref.name}.ready`,
    label: `${ref.kind === 'sidecar' ? 'sidecar' : 'container'} ${ref.name}: ready`,
    stepLabel: ref.spec.readinessProbe ? 'readiness probe passes' : 'kubelet reports the container ready',
    component: 'kubelet',
    container: ref.name,
    after: [`container.${ref.name}.started`, ...(ref.spec.lifecycle?.postStart ? [`container.${ref.name}.post-start-done`] : []), `container.${ref.name}.readiness-failed`],
    candidates: (ctx) => watched(firstSnapshot(ctx, (p) => containerStatus(p, ref)?.ready === true), `${ref.name} ready`),
  };
}
