import { describe, expect, it } from 'vitest';
import { LiveTrace } from '../../../src/collect/live-trace.js';
import type { Observation } from '../../../src/trace/observation.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import type { ObservationLog } from '../../../src/collect/observation-log.js';
import { loadFixture } from '../trace/recording-files.js';

/** The spinner's step after each observation of a real recording, replayed one by one. */
function stepsOf(fixture: string): string[] {
  const { header, observations } = loadFixture(fixture);
  const seen: Observation[] = [];
  const log = { observations: seen, subscribe: () => () => undefined } as unknown as ObservationLog;
  const live = new LiveTrace(header, log);
  const steps: string[] = [];
  for (const o of observations) {
    seen.push(o);
    const step = live.nextStep(reconstruct(header, seen));
    if (step !== undefined && steps.at(-1) !== step) steps.push(step);
  }
  live.close();
  return steps;
}

describe('the step the spinner names', () => {
  it('never names a failure while a pod starts well (real recordings, cold and warm)', () => {
    for (const fixture of ['ready-nginx-cold.ndjson', 'ready-nginx-warm.ndjson', 'ready-multi.ndjson']) {
      const steps = stepsOf(fixture);
      expect(steps.length, fixture).toBeGreaterThan(5);
      for (const step of steps) {
        expect(step, fixture).not.toMatch(/failed|no node fits|then exits|backs off|ImagePullBackOff/);
      }
    }
    // pulled, so never "image found on the node"; present, so never "image pull"
    expect(stepsOf('ready-nginx-cold.ndjson')).not.toContain('kubelet gets to the container, image found on the node');
    expect(stepsOf('ready-nginx-cold.ndjson')).toContain('image pull (runtime)');
  });

  it('names the step a failing pod is stuck in, with the failure', () => {
    const steps = stepsOf('image-pull-not-found-doesnotexist.ndjson');
    expect(steps.some((s) => /\((ErrImagePull|ImagePullBackOff|image-pull-not-found)\)$/.test(s))).toBe(true);
  });
});
