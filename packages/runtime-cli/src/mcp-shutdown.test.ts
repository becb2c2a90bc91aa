import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli, startServer } from './test-support/cli-process.js';
import { useCliTempDir } from './test-support/temp-dir.js';

const dir = useCliTempDir('worker-runtime-cli-mcp-');
const require = createRequire(import.meta.url);

/** A tiny MCP stdio server with one tool, `wait`, that logs `start` and then never answers. */
function toolServerScript(log: string): string {
  return `
const fs = require('node:fs');
const { Server } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/server/index.js'))});
const { StdioServerTransport } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/server/stdio.js'))});
const { ListToolsRequestSchema, CallToolRequestSchema } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/types.js'))});
const server = new Server({ name: 'waiter', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [{ name: 'wait', description: 'Waits for ever', inputSchema: { type: 'object', properties: {} } }],
}));
server.setRequestHandler(CallToolRequestSchema, async () => {
  fs.appendFileSync(${JSON.stringify(log)}, 'start ' + process.pid + '\\n');
  return new Promise(() => {});
});
server.connect(new StdioServerTransport());
`;
}

/** An OpenAI-compatible model that asks for the `wait` tool first, then answers "done". */
async function scriptedModel(): Promise<{ url: string; close: () => Promise<void> }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const message =
        requests === 1
          ? {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'c1', type: 'function', function: { name: 'waiter__wait', arguments: '{}' } }],
            }
          : { role: 'assistant', content: 'done' };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ choices: [{ index: 0, message, finish_reason: requests === 1 ? 'tool_calls' : 'stop' }] }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Live (not zombie) processes whose command line mentions `text`, per `ps`. */
function processesMentioning(text: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\S+)\s+(.*)$/))
    .filter((match): match is RegExpMatchArray => match !== null && !match[2]?.startsWith('Z'))
    .filter((match) => match[3]?.includes(text))
    .map((match) => Number(match[1]));
}

describe('serve with an MCP tool server', () => {
  test('after SIGTERM in the middle of a tool call, no server process is left', async () => {
    const log = join(dir(), 'tool.log');
    await writeFile(log, '');
    const script = join(dir(), 'waiter-mcp-server.cjs');
    await writeFile(script, toolServerScript(log));
    const model = await scriptedModel();
    const config = join(dir(), 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        profiles: {
          agent: {
            engine: 'openai_chat',
            base_url: model.url,
            model: 'test',
            mcp_servers: { waiter: { command: [process.execPath, script] } },
          },
        },
      }),
    );
    const server = await startServer(['--config', config]);
    try {
      const cli = (...args: string[]) => runCli([...args, '--url', server.url, '--json']);
      // /v1/runtime lists the profile's tools once the engine listed them (in the background).
      const listed = Date.now() + 20_000;
      let agent: { capabilities: string[]; tools?: string[]; tools_error?: string | null } | undefined;
      while (agent?.tools === undefined && Date.now() < listed) {
        const summary = JSON.parse((await cli('runtime')).stdout) as { profiles: (typeof agent & { name: string })[] };
        agent = summary.profiles.find((profile) => profile?.name === 'agent');
        if (agent?.tools === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(agent).toMatchObject({ capabilities: ['tools'], tools: ['waiter__wait'], tools_error: null });
      expect((await cli('workers', 'create', '--id', 'a1', '--profile', 'agent', '--capability', 'tools')).code).toBe(
        0,
      );
      expect((await cli('send', 'a1', 'use the tool')).code).toBe(0);
      const deadline = Date.now() + 20_000;
      while (!readFileSync(log, 'utf8').includes('start ')) {
        if (Date.now() > deadline) throw new Error(`the tool call never started:\n${server.output.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(processesMentioning(script).length).toBeGreaterThan(0);
      const result = await server.stop('SIGTERM');
      expect(result.code).toBe(0);
      expect(processesMentioning(script)).toEqual([]);
    } finally {
      await model.close();
    }
  });

  test('a Worker asking for capability tools on a profile without tools is refused (422)', async () => {
    const config = join(dir(), 'config.json');
    await writeFile(
      config,
      JSON.stringify({ profiles: { chat: { engine: 'openai_chat', base_url: 'http://127.0.0.1:9/v1', model: 'm' } } }),
    );
    const server = await startServer(['--config', config]);
    try {
      const created = await runCli([
        'workers',
        'create',
        '--profile',
        'chat',
        '--capability',
        'tools',
        '--url',
        server.url,
      ]);
      expect(created.code).toBe(1);
      expect(created.stderr).toMatch(/^error unsupported_capability: /);
    } finally {
      await server.stop();
    }
  });
});
