import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { Cluster, Context, User } from '@kubernetes/client-node/dist/config_types.js';
import { KubeconfigError } from '../errors.js';

export type AuthMethod = 'token' | 'client-certificate' | 'exec' | 'auth-provider' | 'basic' | 'none';

/** What a run targets; safe to record (no tokens, keys or certificate data). */
export interface KubeTarget {
  context: string;
  cluster: string;
  user: string;
  server: string;
  namespace: string;
  /** Where the namespace came from, for messages. */
  namespaceSource: 'flag' | 'context' | 'default';
  authMethod: AuthMethod;
  /** The kubeconfig files that were read, in merge order. */
  files: string[];
  loadMs: number;
}

export interface KubeconfigRequest {
  /** --kubeconfig: overrides KUBECONFIG and ~/.kube/config. */
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  env: Readonly<Record<string, string | undefined>>;
  /** For tests; defaults to the user's home directory. */
  homeDir?: string;
  /** For tests: the root the in-cluster ServiceAccount files are under (default: /). */
  serviceAccountRoot?: string;
  now?: () => number;
}

export interface LoadedKubeconfig {
  kubeConfig: KubeConfig;
  target: KubeTarget;
}

/**
 * Loads kubeconfig the way kubectl does (--kubeconfig, else the KUBECONFIG list,
 * else ~/.kube/config; first file wins on conflicts) and refuses every path on
 * which client-node's loadFromDefault() would silently talk to http://localhost:8080.
 */
export function loadKubeconfig(request: KubeconfigRequest): LoadedKubeconfig {
  const now = request.now ?? (() => performance.now());
  const started = now();
  const files = kubeconfigFiles(request);
  if (files === IN_CLUSTER) return inCluster(request, now() - started);

  const parsed = files.map((file) => {
    const kc = new KubeConfig();
    try {
      // FILTER: a broken entry we do not use must not stop the run (kubectl behaves the same).
      kc.loadFromFile(file, { onInvalidEntry: 'filter' });
    } catch (error) {
      throw new KubeconfigError(`cannot read kubeconfig ${file}: ${describeLoadError(error)}`, { cause: error });
    }
    return kc;
  });

  const merged = mergeFirstWins(parsed);
  const contextName = request.context ?? merged.currentContext;
  const available = merged.contexts.map((c) => c.name);
  if (!contextName) {
    throw new KubeconfigError(
      available.length === 0
        ? `kubeconfig ${files.join(':')} defines no contexts: point --kubeconfig or KUBECONFIG at your cluster's kubeconfig`
        : `kubeconfig has no current-context: pass --context (one of: ${available.join(', ')})`,
    );
  }
  const context = merged.contexts.find((c) => c.name === contextName);
  if (!context) {
    throw new KubeconfigError(
      `context "${contextName}" not found in kubeconfig ${files.join(':')}` +
        (available.length > 0 ? ` (available: ${available.join(', ')})` : ' (it defines no contexts)'),
    );
  }
  const cluster = merged.clusters.find((c) => c.name === context.cluster);
  if (!cluster) {
    throw new KubeconfigError(
      `context "${context.name}" refers to cluster "${context.cluster}", which is missing from kubeconfig or has no server URL`,
    );
  }
  const user = context.user ? merged.users.find((u) => u.name === context.user) : undefined;
  if (context.user && !user) {
    throw new KubeconfigError(`context "${context.name}" refers to user "${context.user}", which is missing from kubeconfig`);
  }
  checkServer(cluster, context);

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: merged.clusters,
    users: merged.users,
    contexts: merged.contexts,
    currentContext: context.name,
  });
  refuseDefaultFallback(kubeConfig);

  const namespaceSource = request.namespace ? 'flag' : context.namespace ? 'context' : 'default';
  const namespace = request.namespace ?? context.namespace ?? 'default';

  return {
    kubeConfig,
    target: {
      context: context.name,
      cluster: cluster.name,
      user: user?.name ?? '',
      server: cluster.server,
      namespace,
      namespaceSource,
      authMethod: authMethodOf(user),
      files,
      loadMs: now() - started,
    },
  };
}

/** The ServiceAccount's files in a pod, as the kubelet mounts them. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const IN_CLUSTER = Symbol('in-cluster');

/** In a pod: KUBERNETES_SERVICE_HOST and PORT set, and the ServiceAccount token mounted. */
function inClusterAvailable(request: KubeconfigRequest): boolean {
  const root = request.serviceAccountRoot ?? '/';
  return Boolean(request.env['KUBERNETES_SERVICE_HOST'] && request.env['KUBERNETES_SERVICE_PORT']) && isFile(path.join(root, SERVICE_ACCOUNT_DIR, 'token'));
}

/**
 * As kubectl in a pod with no kubeconfig: the API server from KUBERNETES_SERVICE_HOST/PORT, the
 * ServiceAccount's token (re-read as the kubelet rotates it) and CA, its namespace by default.
 */
function inCluster(request: KubeconfigRequest, loadMs: number): LoadedKubeconfig {
  const root = request.serviceAccountRoot ?? '/';
  const dir = path.join(root, SERVICE_ACCOUNT_DIR);
  const host = request.env['KUBERNETES_SERVICE_HOST']!;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${request.env['KUBERNETES_SERVICE_PORT']!}`;
  const caFile = path.join(dir, 'ca.crt');
  if (!isFile(caFile)) throw new KubeconfigError(`in a pod, but ${caFile} is missing: mount the ServiceAccount's token volume (automountServiceAccountToken) or pass --kubeconfig FILE`);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'in-cluster', server, caFile, skipTLSVerify: false }],
    users: [{ name: 'in-cluster', authProvider: { name: 'tokenFile', config: { tokenFile: path.join(dir, 'token') } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster' }],
    currentContext: 'in-cluster',
  });
  if (request.context !== undefined && request.context !== 'in-cluster') {
    throw new KubeconfigError(`context "${request.context}" not found: in a pod without a kubeconfig the only context is in-cluster; pass --kubeconfig FILE for another`);
  }
  const ownNamespace = readNamespace(path.join(dir, 'namespace'));
  const namespace = request.namespace ?? ownNamespace ?? 'default';
  return {
    kubeConfig,
    target: {
      context: 'in-cluster',
      cluster: 'in-cluster',
      user: 'in-cluster',
      server,
      namespace,
      namespaceSource: request.namespace ? 'flag' : ownNamespace ? 'context' : 'default',
      authMethod: 'token',
      files: [],
      loadMs,
    },
  };
}

function readNamespace(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

function kubeconfigFiles(request: KubeconfigRequest): string[] | typeof IN_CLUSTER {
  if (request.kubeconfig !== undefined) {
    const file = path.resolve(request.kubeconfig);
    if (!isFile(file)) {
      throw new KubeconfigError(`kubeconfig ${request.kubeconfig} (from --kubeconfig) does not exist or is not a file`);
    }
    return [file];
  }
  const fromEnv = request.env['KUBECONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const listed = fromEnv.split(path.delimiter).filter((f) => f !== '');
    // kubectl skips missing entries of the KUBECONFIG list; only an all-missing list is an error.
    const present = listed.map((f) => path.resolve(f)).filter(isFile);
    if (present.length === 0) {
      throw new KubeconfigError(
        `none of the files in KUBECONFIG exist (${listed.join(path.delimiter)}): fix KUBECONFIG or pass --kubeconfig FILE`,
      );
    }
    return present;
  }
  const home = request.homeDir ?? request.env['HOME'] ?? homedir();
  const defaultFile = path.join(home, '.kube', 'config');
  if (!isFile(defaultFile)) {
    if (inClusterAvailable(request)) return IN_CLUSTER;
    throw new KubeconfigError(
      `no kubeconfig: ${defaultFile} does not exist and KUBECONFIG is not set; pass --kubeconfig FILE (podtrace never falls back to http://localhost:8080)`,
    );
  }
  return [defaultFile];
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

interface MergedConfig {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string | undefined;
}

/** kubectl's merge rule: the first file that defines a name (or current-context) wins. */
function mergeFirstWins(configs: KubeConfig[]): MergedConfig {
  const merged: MergedConfig = { clusters: [], users: [], contexts: [], currentContext: undefined };
  for (const kc of configs) {
    merged.currentContext ||= kc.getCurrentContext() || undefined;
    for (const cluster of kc.getClusters()) {
      if (!merged.clusters.some((c) => c.name === cluster.name)) merged.clusters.push(cluster);
    }
    for (const user of kc.getUsers()) {
      if (!merged.users.some((u) => u.name === user.name)) merged.users.push(user);
    }
    for (const context of kc.getContexts()) {
      if (!merged.contexts.some((c) => c.name === context.name)) merged.contexts.push(context);
    }
  }
  return merged;
}

function checkServer(cluster: Cluster, context: Context): void {
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new KubeconfigError(`cluster "${cluster.name}" (context "${context.name}") has an invalid server URL "${cluster.server}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeconfigError(`cluster "${cluster.name}" has server "${cluster.server}": only https:// (or http://) servers are supported`);
  }
  if (url.protocol === 'http:' && !cluster.skipTLSVerify) {
    // client-node refuses plain HTTP unless insecure-skip-tls-verify is set; say so up front.
    throw new KubeconfigError(
      `cluster "${cluster.name}" uses plain HTTP (${cluster.server}); @kubernetes/client-node only allows that with insecure-skip-tls-verify: true in the kubeconfig`,
    );
  }
  if (cluster.caFile && !existsSync(cluster.caFile)) {
    throw new KubeconfigError(`cluster "${cluster.name}": certificate-authority file ${cluster.caFile} does not exist`);
  }
}

/** The exact object loadFromDefault() builds when it finds no configuration at all. */
export function isDefaultFallback(kc: KubeConfig): boolean {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  return (
    kc.getCurrentContext() === 'loaded-context' &&
    cluster?.name === 'cluster' &&
    cluster.server === 'http://localhost:8080' &&
    user?.name === 'user'
  );
}

export function refuseDefaultFallback(kc: KubeConfig): void {
  if (isDefaultFallback(kc)) {
    throw new KubeconfigError(
      'no kubeconfig found (the client would fall back to http://localhost:8080): pass --kubeconfig FILE or set KUBECONFIG',
    );
  }
}

export function authMethodOf(user: User | undefined): AuthMethod {
  if (!user) return 'none';
  if (user.exec) return 'exec';
  if (user.authProvider) return 'auth-provider';
  if (user.certData || user.certFile) return 'client-certificate';
  if (user.token) return 'token';
  if (user.username) return 'basic';
  return 'none';
}

function describeLoadError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // client-node dereferences the parsed document directly: an empty or scalar file fails with a TypeError.
  if (error instanceof TypeError && /Cannot read properties of (undefined|null)/.test(message)) {
    return 'it is empty or not a kubeconfig (expected YAML with clusters, users and contexts)';
  }
  // js-yaml messages carry a multi-line code excerpt; the first line says enough.
  return message.split('\n')[0]!.trim() || 'unreadable';
}
