/**
 * --spans: once the pod is gone (or kept), the components' spans of the run,
 * read from the trace backend (collect/spans.ts). What to look for comes from
 * what the run recorded: the trace id, the POST's and DELETE's audit IDs, the
 * pod's uid, and whether the kubelet got to the pod.
 */
import { readComponentSpans, spansReadNote } from '../spans.js';
import type { RunState } from './state.js';

export async function readRunSpans(state: RunState, spans: { backend: string; waitMs: number }): Promise<void> {
  const { log, header, live } = state;
  if (!header.trace) return;
  const client = (type: string) => log.observations.filter((o) => o.source === 'client' && o.type === type);
  const traced = client('request-traced');
  const auditOf = (call: string) => traced.find((o) => o.data?.['call'] === call);
  const post = auditOf('createPod');
  const del = auditOf('deletePod');
  const response = client('post-response')[0];
  const podUid = ((response?.data?.['pod'] as { metadata?: { uid?: string } } | undefined)?.metadata?.uid) ?? undefined;
  const trace = live.refresh();
  state.progress.step(`reading the components' spans from ${spans.backend} (up to ${Math.round(spans.waitMs / 1000)}s for their batched exports)`);
  await readComponentSpans(
    {
      backend: spans.backend,
      traceId: header.trace.traceId,
      auditIds: [post, del].filter((o) => o !== undefined).map((o) => String(o!.data!['auditId'])),
      ...(podUid ? { podUid } : {}),
      from: header.startedAt,
      to: log.clock.now(),
      authenticated: post && response ? [{ from: post.observedAt, to: response.observedAt }] : [],
      expect: {
        podStarted: trace.milestones.some((m) => m.id === 'kubelet.acknowledged'),
        podDeleted: client('delete-response').length > 0,
      },
      waitMs: spans.waitMs,
      signal: state.stop.signal,
    },
    log,
  );
  const note = spansReadNote(log.observations, spans.backend);
  if (note) state.progress.note(note);
}
