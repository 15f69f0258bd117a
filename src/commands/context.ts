import type { Clock } from '../collect/observation-log.js';
import type { SignalSource } from '../collect/stop.js';
import type { ClusterApi, KubeFactory } from '../kube/types.js';
import type { RandomIndex } from './pod-name.js';

/** The part of a writable stream commands use; tests pass in-memory ones. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Everything a command touches outside itself, injected so commands run in-process in tests. */
export interface CommandContext {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  /** How to get the cluster API; defaults to client-node (loaded lazily). */
  kube?: KubeFactory;
  /** Defaults to the process. */
  signals?: SignalSource;
  /** Immediate exit for a second Ctrl-C; defaults to process.exit. */
  exit?: (code: number) => void;
  /** Base for relative default paths (./traces); defaults to process.cwd(). */
  cwd?: string;
  random?: RandomIndex;
  debug?: boolean;
}

/** The kubectl-style flags every cluster command takes. */
export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** A cluster API for --kubeconfig / --context / -n: the injected factory in tests, client-node (loaded now) otherwise. */
export async function openKubeClient(flags: KubeFlags, ctx: CommandContext): Promise<ClusterApi> {
  const factory: KubeFactory = ctx.kube ?? (await import('../kube/client.js')).createKubeClient;
  return factory({
    ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context !== undefined ? { context: flags.context } : {}),
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    env: ctx.env,
  });
}

/** The signals of the process, or the test's. */
export function signalsOf(ctx: CommandContext): { source: SignalSource; exit: (code: number) => void } {
  return { source: ctx.signals ?? process, exit: ctx.exit ?? ((code: number) => process.exit(code)) };
}
