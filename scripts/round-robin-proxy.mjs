#!/usr/bin/env node
// A small round-robin reverse proxy for scripts/cluster-local.sh: the docker-compose Caddy, without docker.
//   node scripts/round-robin-proxy.mjs --port 8080 --upstream http://127.0.0.1:3001 --upstream http://127.0.0.1:3002
// HTTP requests and WebSocket upgrades go to the upstreams in turn. A request whose upstream refuses the connection
// (an instance restarting) is tried on the next one, so nothing reaches the client half-done. Each response names the
// instance that served it in X-Served-By (tests check that requests land on both).
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, upstream: { type: 'string', multiple: true } } });
const upstreams = (values.upstream ?? []).map((u) => new URL(u));
if (!upstreams.length) {
  console.error('usage: round-robin-proxy.mjs --port <port> --upstream <url> [--upstream <url> …]');
  process.exit(2);
}
const MAX_BODY = 1 << 20;
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
let next = 0;
const pick = () => upstreams[next++ % upstreams.length];

/** Request headers for the upstream: hop-by-hop ones dropped, X-Forwarded-* added. */
function forwardHeaders(req) {
  const h = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) h[k] = v;
  const prior = req.headers['x-forwarded-for'];
  h['x-forwarded-for'] = prior ? `${prior}, ${req.socket.remoteAddress}` : req.socket.remoteAddress;
  h['x-forwarded-proto'] ??= 'http';
  h['x-forwarded-host'] ??= req.headers.host ?? '';
  return h;
}

/** True when a JSON body names its clientMessageId. */
function carriesMessageId(body) {
  try {
    return typeof JSON.parse(body.toString('utf8')).clientMessageId === 'string';
  } catch {
    return false;
  }
}

/** Sends the buffered request to one upstream; calls `retry` when the connection itself fails before any response. */
function forward(req, res, body, upstream, tries) {
  const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...forwardHeaders(req), 'content-length': body.length } }, (ur) => {
    const headers = { ...ur.headers, 'x-served-by': upstream.host };
    for (const k of HOP) delete headers[k];
    res.writeHead(ur.statusCode ?? 502, headers);
    ur.pipe(res);
    ur.on('error', () => res.destroy());
  });
  up.on('error', (err) => {
    // A refused connection never reached the instance, so another may take it. A reset (an instance closing its
    // listener with connections still queued) is retried when repeating is harmless: reads, and messages carrying
    // a clientMessageId (the server answers a repeat from the store and runs nothing twice).
    const retriable = err.code === 'ECONNREFUSED' || (err.code === 'ECONNRESET' && (req.method === 'GET' || req.method === 'HEAD' || carriesMessageId(body)));
    if (!res.headersSent && tries > 1 && retriable) return forward(req, res, body, pick(), tries - 1);
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'BAD_GATEWAY', message: `no instance answered: ${err.code ?? err.message}` } }));
    } else res.destroy();
  });
  // The client went away before the answer was complete: stop the upstream request too.
  res.once('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  up.end(body);
}

const server = createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ error: { code: 'MESSAGE_TOO_LONG', message: 'request body too large' } }));
      req.destroy();
    } else chunks.push(c);
  });
  req.on('end', () => forward(req, res, Buffer.concat(chunks), pick(), upstreams.length * 2));
});

// WebSocket: the upgrade request is written to an upstream as-is, then bytes flow both ways.
server.on('upgrade', (req, socket, head) => {
  const tryUpstream = (upstream, tries) => {
    const up = connect({ host: upstream.hostname, port: Number(upstream.port) });
    let connected = false;
    up.on('connect', () => {
      connected = true;
      const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress, 'x-forwarded-proto': 'http' };
      const lines = [`${req.method} ${req.url} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
      up.write(lines.join('\r\n'));
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => {
      if (!connected && tries > 1) return tryUpstream(pick(), tries - 1);
      socket.destroy();
    });
    socket.on('error', () => up.destroy());
    socket.on('close', () => up.destroy());
    up.on('close', () => socket.destroy());
  };
  tryUpstream(pick(), upstreams.length * 2);
});

server.listen(Number(values.port), values.host, () => {
  const { port } = server.address();
  console.log(`proxy listening on http://${values.host}:${port} -> ${upstreams.map((u) => u.host).join(', ')}`);
});
const stop = () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 2_000).unref();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
