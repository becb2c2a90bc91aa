// The http_get baseline: bare node:http answering the bytes and headers the runtime server sent.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { exitWhenParentCloses } from '../lib/child.mjs';

// Node sets these itself (or they describe the connection, not the response).
const CONNECTION_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

const captured = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const body = Buffer.from(captured.body, 'base64');
const headers = Object.entries(captured.headers).filter(([name]) => !CONNECTION_HEADERS.has(name));
const hasRequestId = headers.some(([name]) => name === 'x-request-id');
const fixed = headers.filter(([name]) => name !== 'x-request-id');

const server = createServer((_request, response) => {
  // The runtime generates a request id per request; so does the baseline, to answer the same headers.
  if (hasRequestId) response.setHeader('x-request-id', randomUUID());
  for (const [name, value] of fixed) response.setHeader(name, value);
  response.setHeader('content-length', body.length);
  response.writeHead(captured.status);
  response.end(body);
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  exitWhenParentCloses(
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  process.stdout.write(`READY ${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
