import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseCommandArgs } from './args.js';
import { parseServeConfig, type ServeConfig } from './serve-config.js';
import { SERVE_OPTIONS } from './serve-options.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-runtime-config-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function parse(argv: string[], env: Record<string, string> = {}): Promise<ServeConfig> {
  return parseServeConfig({ args: parseCommandArgs(argv, SERVE_OPTIONS, 'serve'), env, cwd: dir });
}

describe('parseServeConfig', () => {
  test('defaults to loopback 7420, a memory store, info logs and no token', async () => {
    const config = await parse([]);
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 7420,
      runtime_id: undefined,
      display_name: undefined,
      store: 'memory',
      data_dir: join(dir, '.worker-runtime'),
      token: undefined,
      allowed_hosts: [],
      log_level: 'info',
      limits: {},
      profiles: {},
      default_profile: undefined,
      engine_modules: { specifiers: [], dir, file: '' },
      config_file: undefined,
      postgres: undefined,
    });
  });

  test('reads every setting from WORKER_RUNTIME_* variables', async () => {
    const config = await parse([], {
      WORKER_RUNTIME_HOST: 'localhost',
      WORKER_RUNTIME_PORT: '0',
      WORKER_RUNTIME_RUNTIME_ID: 'rt-1',
      WORKER_RUNTIME_DISPLAY_NAME: 'Ops',
      WORKER_RUNTIME_STORE: 'fs',
      WORKER_RUNTIME_DATA_DIR: 'state',
      WORKER_RUNTIME_ALLOWED_HOST: 'runtime.internal, other.internal,',
      WORKER_RUNTIME_LOG_LEVEL: 'debug',
      WORKER_RUNTIME_MAX_WORKERS: '12',
      WORKER_RUNTIME_CANCEL_GRACE_MS: '0',
      WORKER_RUNTIME_TOKEN: '  env-token \n',
    });
    expect(config).toMatchObject({
      host: 'localhost',
      port: 0,
      runtime_id: 'rt-1',
      display_name: 'Ops',
      store: 'fs',
      data_dir: join(dir, 'state'),
      allowed_hosts: ['runtime.internal', 'other.internal'],
      log_level: 'debug',
      limits: { max_workers: 12, cancel_grace_ms: 0 },
      token: 'env-token',
    });
  });

  test('an empty variable counts as unset', async () => {
    expect((await parse([], { WORKER_RUNTIME_PORT: '', WORKER_RUNTIME_TOKEN: '' })).port).toBe(7420);
  });

  test('repeated --allowed-host flags replace the environment list', async () => {
    const config = await parse(['--allowed-host', 'a.internal', '--allowed-host', 'b.internal'], {
      WORKER_RUNTIME_ALLOWED_HOST: 'c.internal',
    });
    expect(config.allowed_hosts).toEqual(['a.internal', 'b.internal']);
  });

  test('config file paths resolve against the file, flag paths against the working directory', async () => {
    await mkdir(join(dir, 'etc'));
    await writeFile(join(dir, 'etc', 'token'), 'file-token\n');
    await writeFile(join(dir, 'etc', 'rt.json'), JSON.stringify({ data_dir: 'data', token_file: 'token' }));
    const fromFile = await parse(['--config', 'etc/rt.json']);
    expect(fromFile.data_dir).toBe(join(dir, 'etc', 'data'));
    expect(fromFile.token).toBe('file-token');
    const fromFlag = await parse(['--config', 'etc/rt.json', '--data-dir', 'elsewhere']);
    expect(fromFlag.data_dir).toBe(join(dir, 'elsewhere'));
  });

  test('the token comes from --token-file, then WORKER_RUNTIME_TOKEN, then WORKER_RUNTIME_TOKEN_FILE', async () => {
    await writeFile(join(dir, 'a'), 'from-flag-file');
    await writeFile(join(dir, 'b'), 'from-env-file');
    const env = { WORKER_RUNTIME_TOKEN: 'from-env', WORKER_RUNTIME_TOKEN_FILE: 'b' };
    expect((await parse(['--token-file', 'a'], env)).token).toBe('from-flag-file');
    expect((await parse([], env)).token).toBe('from-env');
    expect((await parse([], { WORKER_RUNTIME_TOKEN_FILE: 'b' })).token).toBe('from-env-file');
  });

  test('an empty token file is refused without showing its path', async () => {
    await writeFile(join(dir, 'blank'), '\n');
    await expect(parse(['--token-file', 'blank'])).rejects.toMatchObject({
      code: 'invalid_request',
      message: 'token file blank is empty',
    });
  });

  test('a non-loopback host needs a token; with one it is accepted', async () => {
    await expect(parse(['--host', '0.0.0.0'])).rejects.toMatchObject({ command: 'serve' });
    expect((await parse(['--host', '0.0.0.0'], { WORKER_RUNTIME_TOKEN: 't' })).host).toBe('0.0.0.0');
    expect((await parse(['--host', '::1'])).host).toBe('::1');
  });

  test('bad values name their flag or variable', async () => {
    await expect(parse(['--runtime-id', '../etc'])).rejects.toThrow(/--runtime-id is not a valid id/);
    await expect(parse([], { WORKER_RUNTIME_LOG_LEVEL: 'loud' })).rejects.toThrow(
      /WORKER_RUNTIME_LOG_LEVEL must be one of/,
    );
    await expect(parse([], { WORKER_RUNTIME_MAX_WAIT_MS: '-5' })).rejects.toThrow(/WORKER_RUNTIME_MAX_WAIT_MS must be/);
    await expect(parse(['--default-profile', 'ghost'])).rejects.toThrow(/--default-profile names profile "ghost"/);
  });

  test('schema errors never echo the offending value', async () => {
    await writeFile(join(dir, 'c.json'), JSON.stringify({ host: 12345, profiles: {} }));
    const error = await parse(['--config', 'c.json']).catch((e: Error) => e);
    expect((error as Error).message).toBe('invalid config file c.json: host: Invalid type: Expected string');
  });

  test('profiles and engine_modules are passed on as written, to be checked when the Runtime opens', async () => {
    const profiles = { chat: { engine: 'openai_chat', base_url: 'http://127.0.0.1:1/v1' }, e: { engine: 'echo' } };
    await writeFile(join(dir, 'p.json'), JSON.stringify({ profiles, engine_modules: ['./engine.js', 'pkg'] }));
    expect(await parse(['--config', 'p.json'])).toMatchObject({
      profiles,
      engine_modules: { specifiers: ['./engine.js', 'pkg'], dir, file: 'p.json' },
      config_file: 'p.json',
    });
  });

  test('postgres settings come from flags, variables or the config file; other stores have none', async () => {
    await expect(parse(['--store', 'fs'])).resolves.toMatchObject({ postgres: undefined });
    const fromEnv = await parse([], {
      WORKER_RUNTIME_STORE: 'postgres',
      WORKER_RUNTIME_DATABASE_URL: 'postgres://u:pw@db:5432/app',
      WORKER_RUNTIME_STANDBY: 'true',
      WORKER_RUNTIME_LEASE_MS: '1500',
    });
    expect(fromEnv.postgres).toEqual({
      database_url: 'postgres://u:pw@db:5432/app',
      advertise_url: undefined,
      standby: true,
      lease_ms: 1500,
    });
    await writeFile(
      join(dir, 'pg.json'),
      JSON.stringify({ store: 'postgres', database_url: 'postgres://db/app', advertise_url: 'http://10.0.0.5:7420' }),
    );
    const fromFile = await parse(['--config', 'pg.json', '--standby']);
    expect(fromFile.postgres).toEqual({
      database_url: 'postgres://db/app',
      advertise_url: 'http://10.0.0.5:7420',
      standby: true,
      lease_ms: 10_000,
    });
  });

  test('bad postgres settings are usage errors that never echo the database URL', async () => {
    await expect(parse(['--store', 'postgres'])).rejects.toThrow(/needs --database-url or WORKER_RUNTIME_DATABASE_URL/);
    const bad = parse(['--store', 'postgres', '--database-url', 'not a url :secret-pw@']);
    await expect(bad).rejects.toThrow('--database-url is not a valid URL');
    await expect(bad).rejects.not.toThrow(/secret-pw/);
    await expect(
      parse(['--store', 'postgres', '--database-url', 'postgres://db/app', '--lease-ms', '50']),
    ).rejects.toThrow(/--lease-ms must be an integer from 100 to 3600000/);
  });
});
