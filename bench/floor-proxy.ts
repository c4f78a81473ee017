/**
 * The least a Node.js proxy can add on this machine: read the body, forward it to the upstream
 * over a keep-alive pool with the upstream's credential, and send the answer back. No
 * authentication, routing, limits, logging or translation. The benchmark runs it beside the
 * gateway (target `floor`) so the report separates what the machine costs any Node proxy (two
 * extra loopback hops, the scheduler, Node's HTTP stack) from what the gateway itself adds.
 *
 * Run directly (`node -r @swc-node/register bench/floor-proxy.ts`) with BENCH_UPSTREAM_URL and
 * BENCH_UPSTREAM_KEY; it prints `{"url": …}` on stdout and serves until killed.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

function startFloorProxy(upstreamUrl: string, upstreamKey: string): Promise<string> {
  const upstream = new URL(upstreamUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          agent,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${upstreamKey}`, 'content-length': body.length },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

if (require.main === module) {
  void startFloorProxy(process.env.BENCH_UPSTREAM_URL!, process.env.BENCH_UPSTREAM_KEY ?? '').then((url) =>
    process.stdout.write(JSON.stringify({ url }) + '\n'),
  );
}
