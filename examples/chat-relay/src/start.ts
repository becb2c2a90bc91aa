// The example's one command: a Runtime process (memory store, streaming echo profile, a bearer
// token) and the relay in front of it. Only the relay's URL is meant for a browser.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startRelay } from './relay-server.js';
import { createRuntimeLink } from './runtime-link.js';
import { startRuntimeProcess } from './runtime-process.js';

function portFrom(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${name} must be a port number`);
  return port;
}

// A fresh token per start unless one is given; it goes to the Runtime's environment and the relay's
// memory, and is never printed.
const token = process.env.RUNTIME_TOKEN || randomBytes(32).toString('base64url');
const runtime = await startRuntimeProcess({
  token,
  configFile: fileURLToPath(new URL('../runtime.config.json', import.meta.url)),
  port: portFrom('RUNTIME_PORT', 0),
});
const relay = await startRelay({
  link: createRuntimeLink({ baseUrl: runtime.url, token, profile: 'chat' }),
  port: portFrom('PORT', 3000),
});
console.log(`runtime (backend only) on ${runtime.url}`);
console.log(`chat relay listening on ${relay.url}  <- open this one`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await relay.close();
  await runtime.stop();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
runtime.child.once('exit', (code) => {
  if (stopping) return;
  console.error(`the Runtime exited (code ${code}); stopping the relay`);
  void relay.close().then(() => process.exit(1));
});
