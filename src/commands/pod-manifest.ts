import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../errors.js';
import { isRecord } from '../kube/errors.js';
import { imageBasename, parseImageReference, type ImageReference } from './parse/image-reference.js';
import type { CreateOptions } from './option-tables.js';
import { isDns1123Label } from './parse/flags.js';
import { sanitizeForName } from './pod-name.js';

/** A pod manifest as plain JSON (what is POSTed and recorded). */
export type PodManifest = Record<string, unknown> & {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: Record<string, unknown> & { labels?: Record<string, string> };
  spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> };
};

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const RUN_LABEL = 'podtrace.dev/run';

/** What shapes the one container: IMAGE, the words after `--`, and the container flags of `create`. */
export type ContainerFlags = Pick<CreateOptions, 'pullPolicy' | 'requests' | 'limits' | 'port' | 'readiness' | 'env' | 'nodeSelector'> & {
  image: ImageReference;
  /** kubectl's convention: with --command the words after `--` replace the entrypoint, else they are its args. */
  command?: string[];
  args?: string[];
};

/** The one-container pod `podtrace create IMAGE ...` asks for. */
export function manifestFromFlags(flags: ContainerFlags): PodManifest {
  const container: Record<string, unknown> = {
    name: containerName(flags.image),
    image: flags.image.raw,
  };
  if (flags.pullPolicy) container['imagePullPolicy'] = flags.pullPolicy;
  if (flags.command) container['command'] = flags.command;
  if (flags.args) container['args'] = flags.args;
  if (flags.env.length > 0) container['env'] = flags.env;
  if (flags.port !== undefined) container['ports'] = [{ containerPort: flags.port, protocol: 'TCP' }];
  if (flags.requests || flags.limits) {
    container['resources'] = {
      ...(flags.requests ? { requests: flags.requests } : {}),
      ...(flags.limits ? { limits: flags.limits } : {}),
    };
  }
  if (flags.readiness) {
    const handler =
      flags.readiness.kind === 'http'
        ? { httpGet: { port: flags.readiness.port, path: flags.readiness.path } }
        : { tcpSocket: { port: flags.readiness.port } };
    // A 1-s period keeps the probe from adding up to 10 s (the default period) to the measured Ready time.
    container['readinessProbe'] = { ...handler, periodSeconds: 1, failureThreshold: 3 };
  }
  const spec: PodManifest['spec'] = { containers: [container] };
  if (Object.keys(flags.nodeSelector).length > 0) spec['nodeSelector'] = flags.nodeSelector;
  return { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec };
}

/**
 * `--node NAME`: a required node affinity to the node's name (a `metadata.name` field match, as
 * a DaemonSet's pods have), added to every term the manifest already requires. The scheduler
 * still places the pod, so its step stays in the trace; `spec.nodeName` would skip it.
 */
export function pinToNode(manifest: PodManifest, node: string, file?: string): PodManifest {
  const spec = manifest.spec;
  if (spec['nodeName'] !== undefined) {
    throw new UsageError(`--node cannot be combined with spec.nodeName in ${file ?? 'the manifest'}: drop one of them`);
  }
  const affinity = isRecord(spec['affinity']) ? spec['affinity'] : {};
  const nodeAffinity = isRecord(affinity['nodeAffinity']) ? affinity['nodeAffinity'] : {};
  const required = isRecord(nodeAffinity['requiredDuringSchedulingIgnoredDuringExecution'])
    ? nodeAffinity['requiredDuringSchedulingIgnoredDuringExecution']
    : {};
  const terms = Array.isArray(required['nodeSelectorTerms']) && required['nodeSelectorTerms'].length > 0 ? (required['nodeSelectorTerms'] as unknown[]) : [{}];
  const byName = { key: 'metadata.name', operator: 'In', values: [node] };
  const pinned = terms.map((term) => {
    const t = isRecord(term) ? term : {};
    return { ...t, matchFields: [...(Array.isArray(t['matchFields']) ? t['matchFields'] : []), byName] };
  });
  return {
    ...manifest,
    spec: {
      ...spec,
      affinity: {
        ...affinity,
        nodeAffinity: { ...nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { ...required, nodeSelectorTerms: pinned } },
      },
    },
  };
}

function containerName(image: ImageReference): string {
  const name = sanitizeForName(imageBasename(image)).slice(0, 63).replace(/-+$/, '');
  return name === '' ? 'main' : name;
}

/** Reads `-f pod.yaml`: exactly one document, a v1 Pod with valid container images. */
export function loadManifestFile(file: string): PodManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new UsageError(`-f ${file}: ${why}`);
  }
  const documents = parseAllDocuments(text).filter((doc) => !(doc.contents === null && doc.errors.length === 0));
  if (documents.length === 0) throw new UsageError(`-f ${file}: the file is empty; it must hold one Pod manifest`);
  if (documents.length > 1) throw new UsageError(`-f ${file}: holds ${documents.length} YAML documents; podtrace creates exactly one Pod`);
  const document = documents[0]!;
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new UsageError(`-f ${file}: not valid YAML: ${first.message.split('\n')[0]}`);
  }
  const manifest: unknown = document.toJS();
  return validateManifest(manifest, file);
}

export function validateManifest(manifest: unknown, file: string): PodManifest {
  if (!isRecord(manifest)) throw new UsageError(`-f ${file}: must be a YAML mapping holding a Pod manifest`);
  if (manifest['kind'] !== 'Pod' || manifest['apiVersion'] !== 'v1') {
    const found = `${String(manifest['apiVersion'] ?? '?')}/${String(manifest['kind'] ?? '?')}`;
    throw new UsageError(`-f ${file}: must be a Pod (apiVersion: v1, kind: Pod), found ${found}`);
  }
  const metadata = manifest['metadata'] ?? {};
  if (!isRecord(metadata)) throw new UsageError(`-f ${file}: metadata must be a mapping`);
  const labels = metadata['labels'];
  if (labels !== undefined && !isRecord(labels)) throw new UsageError(`-f ${file}: metadata.labels must be a mapping`);
  const spec = manifest['spec'];
  if (!isRecord(spec)) throw new UsageError(`-f ${file}: spec is missing`);
  const containers = spec['containers'];
  if (!Array.isArray(containers) || containers.length === 0) {
    throw new UsageError(`-f ${file}: spec.containers must list at least one container`);
  }
  const all = [...(Array.isArray(spec['initContainers']) ? spec['initContainers'] : []), ...containers];
  for (const [index, container] of all.entries()) {
    if (!isRecord(container)) throw new UsageError(`-f ${file}: container #${index + 1} must be a mapping`);
    const name = container['name'];
    if (typeof name !== 'string' || !isDns1123Label(name)) {
      throw new UsageError(`-f ${file}: container #${index + 1} needs a name that is a DNS-1123 label (lowercase letters, digits, "-")`);
    }
    const image = container['image'];
    if (typeof image !== 'string') throw new UsageError(`-f ${file}: container "${name}" has no image`);
    try {
      parseImageReference(image);
    } catch (error) {
      throw new UsageError(`-f ${file}: container "${name}": ${(error as Error).message}`);
    }
  }
  return { ...manifest, metadata: { ...metadata }, spec: spec as PodManifest['spec'] } as PodManifest;
}

/** Names, namespace and podtrace's labels on the manifest that will be sent. */
export function finalizeManifest(
  manifest: PodManifest,
  identity: { name: string; namespace: string; runId: string },
): PodManifest {
  const metadata: PodManifest['metadata'] = { ...manifest.metadata, name: identity.name, namespace: identity.namespace };
  delete metadata['generateName'];
  metadata.labels = {
    ...(isRecord(manifest.metadata.labels) ? (manifest.metadata.labels as Record<string, string>) : {}),
    [MANAGED_BY_LABEL]: 'podtrace',
    [RUN_LABEL]: identity.runId,
  };
  return { ...manifest, metadata };
}

/** The image of the first app container, for naming and the recording header. */
export function primaryImage(manifest: PodManifest): string | undefined {
  const image = manifest.spec.containers[0]?.['image'];
  return typeof image === 'string' ? image : undefined;
}
