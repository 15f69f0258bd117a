/**
 * The smallest OTLP/gRPC trace receiver that Kubernetes' exporters accept:
 * cleartext HTTP/2 on loopback, answering every Export with an empty
 * ExportTraceServiceResponse. It keeps the raw protobuf payloads, which is
 * enough to see which services sent spans (their names are plain strings).
 */
import { createServer, type Http2Server } from 'node:http2';

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

export interface OtlpCollector {
  endpoint: string;
  payloads: Buffer[];
  /** Resolves once some payload contains every one of the strings. */
  waitFor(strings: string[], timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startOtlpCollector(): Promise<OtlpCollector> {
  const payloads: Buffer[] = [];
  const server: Http2Server = createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      if (headers[':path'] === EXPORT_PATH) payloads.push(Buffer.concat(chunks));
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      // one gRPC message: not compressed, length 0 (an empty response)
      stream.end(Buffer.alloc(5));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `127.0.0.1:${port}`,
    payloads,
    async waitFor(strings, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const all = Buffer.concat(payloads).toString('latin1');
        const missing = strings.filter((s) => !all.includes(s));
        if (missing.length === 0) return;
        if (Date.now() > deadline) throw new Error(`no span from ${missing.join(', ')} within ${timeoutMs} ms (${payloads.length} exports received)`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
