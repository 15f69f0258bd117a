import { describe, expect, it } from 'vitest';
import { createProgress, milestoneLine } from '../../../src/commands/progress.js';
import type { Milestone, Trace } from '../../../src/trace/types.js';
import { memoryStream } from './fake-kube.js';

const milestone = (id: string, label: string, at: number, detail?: string): Milestone => ({
  id,
  label,
  component: 'client',
  at,
  offsetMs: at - 1000,
  source: 'client-clock',
  precisionMs: 0.001,
  ...(detail ? { detail } : {}),
});

/** An in-memory stream with what ora needs of a terminal. */
function terminal(columns: number) {
  const memory = memoryStream({ isTTY: true, columns });
  const stream = Object.assign(memory, {
    cursorTo: () => memory.write('\r'),
    moveCursor: () => true,
    clearLine: () => true,
    on: () => stream,
    removeListener: () => stream,
  });
  return stream;
}

const traceWith = (...milestones: Milestone[]) => ({ run: { startedAt: 500 }, milestones }) as unknown as Trace;

describe('live progress', () => {
  it('prints nothing but notes when disabled', async () => {
    const stderr = memoryStream();
    const progress = await createProgress(stderr, false);
    progress.step('creating the pod');
    progress.update(traceWith(milestone('a', 'POST pod sent', 1000)), 'next');
    progress.note('warning: something');
    progress.stop();
    expect(stderr.text()).toBe('warning: something\n');
    expect(progress.enabled).toBe(false);
  });

  it('prints each milestone once, in time order, as time since the run started', async () => {
    const stderr = terminal(100);
    const progress = await createProgress(stderr, true);
    progress.step('creating the pod');
    progress.update(traceWith(milestone('b', 'scheduled', 1250, 'node n1'), milestone('a', 'POST pod sent', 1000)), 'kubelet');
    progress.update(traceWith(milestone('a', 'POST pod sent', 1000), milestone('b', 'scheduled', 1250, 'node n1'), milestone('c', 'pod Ready', 3500)));
    progress.stop();
    // eslint-disable-next-line no-control-regex
    const plain = stderr.text().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    const lines = plain.split(/[\r\n]+/).filter((l) => l.startsWith('✔'));
    expect(lines).toEqual(['✔   0.500s  POST pod sent', '✔   0.750s  scheduled  node n1', '✔   3.000s  pod Ready']);
    expect(plain).toMatch(/creating the pod/);
  });

  it('draws on a terminal that reports 0 columns (an unsized pty) as on an 80-column one', async () => {
    const stderr = terminal(0);
    const progress = await createProgress(stderr, true);
    progress.step('creating the pod');
    progress.update(traceWith(milestone('a', 'POST pod sent', 1000)), 'scheduler');
    progress.update(traceWith(milestone('a', 'POST pod sent', 1000), milestone('c', 'pod Ready', 3500)));
    progress.stop();
    // ora divided by the width: with 0 it cleared lines without end
    expect(stderr.text().length).toBeLessThan(2000);
    // eslint-disable-next-line no-control-regex
    const plain = stderr.text().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    expect(plain.split(/[\r\n]+/).filter((l) => l.startsWith('✔'))).toEqual(['✔   0.500s  POST pod sent', '✔   3.000s  pod Ready']);
  });

  it('formats lines', () => {
    expect(milestoneLine(milestone('x', 'image pulled', 12_345.6, 'kubelet: 1.2s'), 0)).toBe(' 12.346s  image pulled  kubelet: 1.2s');
  });
});
