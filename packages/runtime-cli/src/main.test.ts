import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { COMMANDS } from './main.js';
import { runCli } from './test-support/cli-process.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('worker-runtime binary', () => {
  test('--help lists every command and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toContain(`  ${command.name} `);
  });

  test('every command has its own --help', async () => {
    const helps = await Promise.all(
      [...COMMANDS.map((command) => [command.name]), ['workers', 'create'], ['workers', 'list']].map((words) =>
        runCli([...words, '--help']),
      ),
    );
    for (const result of helps) {
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: worker-runtime /);
    }
    expect((await runCli(['help', 'serve'])).stdout).toContain('WORKER_RUNTIME_MAX_WORKERS (default: 10000)');
  });

  test('help <command> [subcommand] and --help anywhere print the same text', async () => {
    const [viaHelp, viaFlag, viaShort, workers] = await Promise.all([
      runCli(['help', 'workers', 'create']),
      runCli(['workers', 'create', '--url', 'http://127.0.0.1:9', '--help']),
      runCli(['workers', 'create', '-h']),
      runCli(['workers', '--help']),
    ]);
    expect(viaHelp).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: worker-runtime workers create/) });
    expect(viaFlag.stdout).toBe(viaHelp.stdout);
    expect(viaShort.stdout).toBe(viaHelp.stdout);
    expect(workers.stdout).toMatch(/^Usage: worker-runtime workers <list\|create/);
    const bogus = await runCli(['workers', '--bogus']);
    expect(bogus).toMatchObject({ code: 2, stdout: '' });
    expect(bogus.stderr).toContain('unknown option --bogus');
  });

  test('--version prints the package version', async () => {
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  test('no command or an unknown one exits 2 with a --help hint', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe("worker-runtime: missing command\nRun 'worker-runtime --help' for usage.\n");
    const unknown = await runCli(['launch']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "launch"');
  });
});
