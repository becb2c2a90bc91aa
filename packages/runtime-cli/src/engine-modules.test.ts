import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli, startServer } from './test-support/cli-process.js';
import { useCliTempDir } from './test-support/temp-dir.js';

const tempDir = useCliTempDir('worker-runtime-engine-modules-');

async function config(value: unknown): Promise<string> {
  const path = join(tempDir(), 'runtime.json');
  await writeFile(path, JSON.stringify(value));
  return path;
}

/** A package installed next to the config file, ESM only (an `import` condition and nothing else). */
async function installPackage(): Promise<void> {
  const root = join(tempDir(), 'node_modules', 'reverse-engine');
  await mkdir(root, { recursive: true });
  await writeFile(
    join(root, 'package.json'),
    JSON.stringify({ name: 'reverse-engine', type: 'module', exports: { '.': { import: './index.js' } } }),
  );
  await writeFile(
    join(root, 'index.js'),
    `export const engines = [{
      name: 'reverse',
      async run(run) { await run.append({ role: 'assistant', content: [...run.input].reverse().join('') }); },
    }];\n`,
  );
}

describe('engine_modules', () => {
  test('loads engines from a file path and from a package resolved from the config directory', async () => {
    await installPackage();
    await mkdir(join(tempDir(), 'engines'));
    await writeFile(
      join(tempDir(), 'engines', 'shout.mjs'),
      `export default {
        name: 'shout',
        async run(run) { await run.append({ role: 'assistant', content: run.input.toUpperCase() + run.worker.profile.suffix }); },
      };\n`,
    );
    const path = await config({
      engine_modules: ['./engines/shout.mjs', 'reverse-engine'],
      profiles: { loud: { engine: 'shout', suffix: '!' }, back: { engine: 'reverse' } },
    });
    // Started elsewhere: resolution follows the config file, not the working directory.
    const server = await startServer(['--config', path], { cwd: tmpdir() });
    expect(server.readyLine).toMatch(/profiles=runtime_default,loud,back$/);
    const runtime = (await (await fetch(`${server.url}/v1/runtime`)).json()) as {
      runtime: { capabilities: { engines: string[] } };
    };
    expect(runtime.runtime.capabilities.engines).toEqual(['echo', 'command', 'openai_chat', 'shout', 'reverse']);
    for (const [worker, profile] of [
      ['a', 'loud'],
      ['b', 'back'],
    ] as const) {
      await runCli(['workers', 'create', '--id', worker, '--profile', profile, '--url', server.url]);
    }
    expect((await runCli(['send', 'a', 'hi', '--wait', '--url', server.url])).stdout).toBe('HI!\n');
    expect((await runCli(['send', 'b', 'hello', '--wait', '--url', server.url])).stdout).toBe('olleh\n');
  });

  test('a missing module, a module without engines or a broken one exits 1 naming the entry, not its path', async () => {
    await writeFile(join(tempDir(), 'empty.mjs'), 'export const nothing = 1;\n');
    await writeFile(join(tempDir(), 'broken.mjs'), 'export default {;\n');
    const missing = await runCli(['serve', '--config', await config({ engine_modules: ['no-such-engine-pkg'] })]);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe(
      'error invalid_request: invalid config file runtime.json: engine_modules[0] ("no-such-engine-pkg"): cannot be found (install the package, or check the path)\n',
    );
    const empty = await runCli(['serve', '--config', await config({ engine_modules: [join(tempDir(), 'empty.mjs')] })]);
    expect(empty.stderr).toBe(
      'error invalid_request: invalid config file runtime.json: engine_modules[0] ("empty.mjs"): exports no engine (export an "engines" array, or a default engine or array of engines)\n',
    );
    const broken = await runCli(['serve', '--config', await config({ engine_modules: ['./broken.mjs'] })]);
    expect(broken.stderr).toBe(
      'error invalid_request: invalid config file runtime.json: engine_modules[0] ("broken.mjs"): cannot be loaded (SyntaxError)\n',
    );
    expect(`${missing.stderr}${empty.stderr}${broken.stderr}`).not.toContain(tempDir());
  });

  test("a profile naming an engine nobody provides, or breaking its engine's schema, is a config file error", async () => {
    const unknown = await runCli(['serve', '--config', await config({ profiles: { p: { engine: 'shout' } } })]);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toBe(
      'error invalid_request: invalid config file runtime.json: profiles.p.engine: names engine "shout", which is not available (available: echo, command, openai_chat)\n',
    );
    const typo = await runCli([
      'serve',
      '--config',
      await config({ profiles: { p: { engine: 'command', command: ['cat'], outptu: 'jsonl' } } }),
    ]);
    expect(typo.stderr).toBe(
      'error invalid_request: invalid config file runtime.json: profiles.p.outptu: unknown field\n',
    );
    const echo = await runCli([
      'serve',
      '--config',
      await config({ profiles: { e: { engine: 'echo', delay_ms: 'soon' } } }),
    ]);
    expect(echo.stderr).toMatch(
      /^error invalid_request: invalid config file runtime\.json: profiles\.e\.delay_ms: Invalid type/,
    );
  });
});
