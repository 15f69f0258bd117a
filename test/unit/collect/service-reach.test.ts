/**
 * --expose's tries from podtrace's machine, against real sockets on loopback: a TCP listener, a
 * closed port, and a small DNS responder that answers one name.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tryConnect, tryResolve } from '../../../src/collect/create/service-reach.js';

/** A DNS server on 127.0.0.1 that answers A queries for `name` with `address`, NXDOMAIN otherwise. */
function dnsResponder(name: string, address: string): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    // the question starts at byte 12: labels, then type and class
    let i = 12;
    const labels: string[] = [];
    while (query[i]! > 0) {
      labels.push(query.subarray(i + 1, i + 1 + query[i]!).toString());
      i += query[i]! + 1;
    }
    const question = query.subarray(12, i + 5);
    const qtype = query.readUInt16BE(i + 1);
    const found = labels.join('.') === name;
    const answers = found && qtype === 1 ? 1 : 0;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the id
    header.writeUInt16BE(0x8180 | (found ? 0 : 3), 2); // a response, recursion available; rcode 0 or NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers, 6);
    const answer = answers
      ? Buffer.concat([Buffer.from([0xc0, 12]), Buffer.from([0, 1, 0, 1, 0, 0, 0, 30, 0, 4]), Buffer.from(address.split('.').map(Number))])
      : Buffer.alloc(0);
    socket.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
  });
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve({ socket, port: socket.address().port })));
}

let server: Server;
let listening: number;
let dns: { socket: Socket; port: number };
beforeAll(async () => {
  server = createServer((s) => s.end());
  listening = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  dns = await dnsResponder('web.default.svc.cluster.local', '198.18.128.7');
});
afterAll(() => {
  server.close();
  dns.socket.close();
});

describe('a try from the client', () => {
  it('connects to a listening port, and says why not to a closed one', async () => {
    expect(await tryConnect('127.0.0.1', listening)).toBeUndefined();
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    expect(await tryConnect('127.0.0.1', closed)).toBe('ECONNREFUSED');
  });

  it('resolves a name to the expected address through the given server, and says what it got otherwise', async () => {
    const server = `127.0.0.1:${dns.port}`;
    expect(await tryResolve(server, 'web.default.svc.cluster.local', '198.18.128.7')).toBeUndefined();
    expect(await tryResolve(server, 'web.default.svc.cluster.local', '198.18.128.8')).toBe('answered 198.18.128.7');
    expect(await tryResolve(server, 'other.default.svc.cluster.local', '198.18.128.7')).toBe('ENOTFOUND');
  });
});
