// A PostgreSQL for tests and benchmarks: yours (WORKER_RUNTIME_TEST_DATABASE_URL) or a throwaway one.
// Plain JavaScript so bench scripts (node, no TypeScript) and vitest tests share it; types in the .d.mts.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** Set it to a PostgreSQL URL to run the tests against your own server instead of a temporary one. */
export const TEST_DATABASE_URL_ENV = 'WORKER_RUNTIME_TEST_DATABASE_URL';
function findBinDir() {
  const fromEnv = process.env.WORKER_RUNTIME_PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
/** PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user (created if missing). */
async function serverUser() {
  if (process.getuid?.() !== 0) return null;
  const id = async (flag) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
  try {
    await id('-u');
  } catch {
    await run('useradd', ['--system', '--no-create-home', 'postgres']);
  }
  return { uid: await id('-u'), gid: await id('-g') };
}
async function waitReady(bin, dir, port, child) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}`);
    const ok = await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`postgres in ${dir} did not become ready within 30 s`);
}
/**
 * Returns the developer's server when WORKER_RUNTIME_TEST_DATABASE_URL is set; otherwise starts a
 * throwaway PostgreSQL (Debian's binaries) in a temp dir on a free loopback port, trust auth.
 * @throws Error when neither is available, saying how to fix it
 */
export async function startTestPostgres() {
  const url = process.env[TEST_DATABASE_URL_ENV];
  if (url) return { url, stop: async () => undefined };
  const bin = findBinDir();
  if (!bin) {
    throw new Error(`no PostgreSQL found: install Debian's postgresql package or set ${TEST_DATABASE_URL_ENV}`);
  }
  const user = await serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'worker-runtime-pg-'));
  if (user) await chown(dir, user.uid, user.gid);
  // Spawned with the server user's ids (what `runuser -u postgres` does), so signals reach postgres itself;
  // in its own directory, as the caller's may not be readable by that user.
  const as = user ? { uid: user.uid, gid: user.gid, cwd: dir, env: { ...process.env, HOME: dir } } : { cwd: dir };
  const data = join(dir, 'data');
  await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8'], as);
  const port = await freePort();
  const serverArgs = ['-D', data, '-p', String(port), '-k', data, '-h', '127.0.0.1'];
  // Durability settings stay at their defaults: the tests measure nothing, but they must commit for real.
  const child = spawn(join(bin, 'postgres'), serverArgs, { ...as, stdio: 'ignore' });
  await waitReady(bin, dir, port, child);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        // SIGINT is PostgreSQL's "fast shutdown".
        child.kill('SIGINT');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
