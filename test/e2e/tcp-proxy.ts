/**
 * A TCP proxy the tests control, between podtrace and the API server: it
 * can cut every connection while the server stays up (a watch stream broken
 * by the network), or stop accepting altogether (the API server unreachable
 * for as long as the test wants). TLS passes through untouched.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export interface ProxyStats {
  /** Connections accepted since the start. */
  accepted: number;
  /** Connections the test cut. */
  cut: number;
}

export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  #port = 0;
  readonly stats: ProxyStats = { accepted: 0, cut: 0 };

  constructor(targetUrl: string) {
    const url = new URL(targetUrl);
    this.#target = { host: url.hostname, port: Number(url.port || 443) };
  }

  get port(): number {
    return this.#port;
  }

  /** Starts listening on 127.0.0.1 (the same port again after stop()). */
  async start(): Promise<number> {
    const server = net.createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as net.AddressInfo).port;
    return this.#port;
  }

  #accept(client: net.Socket): void {
    this.stats.accepted++;
    const upstream = net.connect(this.#target.port, this.#target.host);
    const pair = [client, upstream];
    for (const s of pair) {
      this.#sockets.add(s);
      s.on('error', () => pair.forEach((x) => x.destroy()));
      s.on('close', () => {
        this.#sockets.delete(s);
        pair.forEach((x) => x.destroy());
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Resets every open connection; new ones are still accepted. */
  cutAll(): number {
    const clients = [...this.#sockets];
    for (const s of clients) s.resetAndDestroy();
    this.stats.cut += clients.length / 2;
    return clients.length / 2;
  }

  /** Stops accepting and cuts everything: from the client, the server is gone (connection refused). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.cutAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  open(): number {
    return this.#sockets.size / 2;
  }
}

/** A copy of `kubeconfig` whose clusters all point at the proxy. */
export function kubeconfigThrough(kubeconfig: string, proxyPort: number, file: string): string {
  const config = parseYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> };
  for (const c of config.clusters) c.cluster.server = `https://127.0.0.1:${proxyPort}`;
  writeFileSync(file, stringifyYaml(config), { mode: 0o600 });
  return file;
}

/** The API server URL of the kubeconfig's first cluster. */
export function serverOf(kubeconfig: string): string {
  const config = parseYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> };
  return config.clusters[0]!.cluster.server;
}

/**
 * A SOCKS5 proxy (no authentication, CONNECT only) on 127.0.0.1: what a kubeconfig's
 * `proxy-url: socks5://…` points at. It records where each connection asked to go.
 */
export class Socks5Proxy {
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  /** host:port of each CONNECT, in order. */
  readonly connects: string[] = [];

  async start(): Promise<number> {
    const server = net.createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    return (server.address() as net.AddressInfo).port;
  }

  #accept(client: net.Socket): void {
    this.#sockets.add(client);
    client.on('close', () => this.#sockets.delete(client));
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    let greeted = false;
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!greeted) {
        // VER NMETHODS METHODS…: answer "no authentication"
        if (buffered.length < 2 || buffered.length < 2 + buffered[1]!) return;
        buffered = buffered.subarray(2 + buffered[1]!);
        greeted = true;
        client.write(Buffer.from([5, 0]));
      }
      // VER CMD RSV ATYP ADDR PORT, CONNECT only
      if (buffered.length < 5) return;
      const atyp = buffered[3]!;
      const addrLength = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buffered[4]!;
      if (buffered.length < 4 + addrLength + 2) return;
      const addr = buffered.subarray(4, 4 + addrLength);
      const host = atyp === 1 ? [...addr].join('.') : atyp === 3 ? addr.subarray(1).toString() : addr.toString('hex').match(/.{4}/g)!.join(':');
      const port = buffered.readUInt16BE(4 + addrLength);
      const rest = buffered.subarray(4 + addrLength + 2);
      client.off('data', onData);
      this.connects.push(`${host}:${port}`);
      const upstream = net.connect(port, host, () => {
        client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      this.#sockets.add(upstream);
      upstream.on('close', () => {
        this.#sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    };
    client.on('data', onData);
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A copy of `kubeconfig` whose clusters are reached through `proxyUrl` (their `proxy-url`). */
export function kubeconfigWithProxyUrl(kubeconfig: string, proxyUrl: string, file: string): string {
  const config = parseYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: Array<{ cluster: Record<string, unknown> }> };
  for (const c of config.clusters) c.cluster['proxy-url'] = proxyUrl;
  writeFileSync(file, stringifyYaml(config), { mode: 0o600 });
  return file;
}
