import type { KubeFactory } from '../kube/types.js';
import type { Clock } from '../watchers/observation-log.js';
import type { RandomIndex } from './pod-name.js';

/** The part of a writable stream commands use; tests pass in-memory ones. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface SignalSource {
  on(signal: StopSignal, handler: () => void): unknown;
  off(signal: StopSignal, handler: () => void): unknown;
}

/** Everything a command touches outside itself, injected so commands run in-process in tests. */
export interface CommandContext {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  /** How to get a Kubernetes client; defaults to client-node (loaded lazily). */
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

/** A client for --kubeconfig / --context / -n: the injected factory in tests, client-node (loaded now) otherwise. */
export async function openKubeClient(flags: KubeFlags, ctx: CommandContext): Promise<import('../kube/types.js').KubeClient> {
  const factory: KubeFactory = ctx.kube ?? (await import('../kube/client.js')).createKubeClient;
  return factory({
    ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context !== undefined ? { context: flags.context } : {}),
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    env: ctx.env,
  });
}

/** What the `kubeconfig-loaded` observation records of a client's target: where and as whom, never credentials. */
export function kubeconfigLoaded(target: import('../kube/types.js').KubeTarget): Record<string, unknown> {
  return {
    context: target.context,
    cluster: target.cluster,
    user: target.user,
    server: target.server,
    namespace: target.namespace,
    namespaceSource: target.namespaceSource,
    authMethod: target.authMethod,
    loadMs: target.loadMs,
  };
}
