/**
 * V8's defaults suit a short command: the young generation grows to tens of megabytes and the old
 * space to a multiple of what is live before either is collected. `watch` and `probe` run for
 * hours and allocate a pod object per watch event, nearly all of it garbage at once: with the
 * defaults their RSS was four times their live heap (BENCHMARKS.md section 4b). These two flags are
 * read by V8 each time it sizes its spaces, so they take effect when set at run time (the young
 * generation's maximum, the other lever, is fixed at start): the young generation keeps its first
 * size, and the old space may grow by half of what survived its last collection before the next.
 * The cost is CPU, which those commands have to spare (figures in BENCHMARKS.md).
 */
import v8 from 'node:v8';

const SMALL_HEAP_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=50'] as const;

export function favourSmallHeap(): void {
  for (const flag of SMALL_HEAP_FLAGS) v8.setFlagsFromString(flag);
}
