import {
  type EngineRun,
  MemoryStore,
  Runtime,
  type RuntimeOptions,
  type TranscriptEntry,
  type WorkerEngine,
} from '@worker-runtime/core';
import type { Hono } from 'hono';
import { createRuntimeApp, type RuntimeAppOptions } from './app.js';
import { serveRuntime } from './server.js';

/** An engine whose runs wait until the test releases them (abort ends them too). */
export interface HoldEngine extends WorkerEngine {
  /** Lets every waiting run reply `held: <input>` and complete. */
  releaseAll(): void;
  /** How many runs are waiting. */
  readonly waiting: number;
}

export function createHoldEngine(): HoldEngine {
  const waiting = new Set<() => void>();
  return {
    name: 'hold',
    capabilities: ['hold.test'],
    get waiting() {
      return waiting.size;
    },
    releaseAll() {
      for (const release of [...waiting]) release();
    },
    run(run: EngineRun): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const release = (): void => {
          waiting.delete(release);
          run.append({ role: 'assistant', content: `held: ${run.input}` }).then(resolve, reject);
        };
        waiting.add(release);
        run.signal.addEventListener('abort', () => {
          waiting.delete(release);
          reject(run.signal.reason);
        });
      });
    },
  };
}

/** A memory Runtime with a `hold` profile (runs wait for `engine.releaseAll()`). */
export async function openTestRuntime(options: RuntimeOptions = {}): Promise<{ runtime: Runtime; engine: HoldEngine }> {
  const engine = createHoldEngine();
  const runtime = await Runtime.open({
    engines: [engine],
    profiles: { hold: { engine: 'hold' } },
    ...options,
  });
  return { runtime, engine };
}

export const TOKEN = 'test-token-0123456789';
export const AUTH = { authorization: `Bearer ${TOKEN}` } as const;
export const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' } as const;

/** An app with the test token; `request` sends JSON bodies as such. */
export function testApp(
  runtime: Runtime,
  options: Omit<RuntimeAppOptions, 'runtime'> = {},
): {
  app: Hono;
  call(path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
} {
  const app = createRuntimeApp({ runtime, token: TOKEN, ...options }) as unknown as Hono;
  return {
    app,
    call(path, init = {}) {
      const hasBody = init.body !== undefined;
      return Promise.resolve(
        app.request(path, {
          method: init.method ?? (hasBody ? 'POST' : 'GET'),
          headers: { ...(hasBody ? JSON_HEADERS : AUTH), ...init.headers },
          ...(hasBody ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
        }),
      );
    },
  };
}

/** Something that answers requests like `app.request()`: the Hono app, or a real server behind fetch. */
export interface Requester {
  request(path: string, init?: RequestInit): Promise<Response>;
}

/** A served Runtime, over one of the two transports. */
export interface Served {
  app: Requester;
  call(path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /** Stops the server (a no-op for the in-process app). */
  close(): Promise<void>;
}

/**
 * The two entry points the REST contract runs against: `createRuntimeApp().request()` in process,
 * and `serveRuntime()` over a real socket on 127.0.0.1. Both must answer byte for byte the same.
 */
export type TransportName = 'app.request' | 'serveRuntime';
export const TRANSPORTS: readonly TransportName[] = ['app.request', 'serveRuntime'];

function caller(app: Requester): Served['call'] {
  return (path, init = {}) => {
    const hasBody = init.body !== undefined;
    return app.request(path, {
      method: init.method ?? (hasBody ? 'POST' : 'GET'),
      headers: { ...(hasBody ? JSON_HEADERS : AUTH), ...init.headers },
      ...(hasBody ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
    });
  };
}

/** Serves `runtime` with the test token over `transport`. */
export async function serveOver(
  transport: TransportName,
  runtime: Runtime,
  options: Omit<RuntimeAppOptions, 'runtime'> = {},
): Promise<Served> {
  if (transport === 'app.request') {
    const app = createRuntimeApp({ runtime, token: TOKEN, ...options });
    const requester: Requester = { request: async (path, init) => app.request(path, init) };
    return { app: requester, call: caller(requester), close: async () => undefined };
  }
  const { loopbackOnly: _loopbackOnly, signal: _signal, ...serverOptions } = options;
  const server = await serveRuntime({ runtime, port: 0, token: TOKEN, ...serverOptions });
  const requester: Requester = { request: (path, init) => fetch(`${server.url}${path}`, init) };
  return { app: requester, call: caller(requester), close: () => server.close() };
}

/** Polls `check` until it returns a value, or fails after `ms`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const CREATE_ASSISTANT = { intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } } as const;
export const CREATE_HOLD = { intent: { kind: 'assistant' }, profile: { kind: 'named', value: 'hold' } } as const;

/** A memory store a test can break: failed writes, or reads that throw an unexpected error. */
export class FaultyStore extends MemoryStore {
  /** Make commits fail like a full disk. */
  failCommits = false;
  /** Make transcript reads throw this (a plain Error stands for a bug). */
  readFailure: unknown = null;

  override async commit(records: Parameters<MemoryStore['commit']>[0]): Promise<void> {
    if (this.failCommits)
      throw Object.assign(new Error('ENOSPC: no space left on device, write /var/data/x'), { code: 'ENOSPC' });
    return super.commit(records);
  }

  override async readTranscript(worker_id: string, start: number, limit: number): Promise<TranscriptEntry[]> {
    if (this.readFailure !== null) throw this.readFailure;
    return super.readTranscript(worker_id, start, limit);
  }
}

/** A parsed JSON response body, read loosely by tests that assert its shape. */
// biome-ignore lint/suspicious/noExplicitAny: tests navigate arbitrary JSON and assert on it.
export type AnyJson = any;

/** The JSON body of a response. */
export async function bodyOf(response: Response): Promise<AnyJson> {
  return response.json();
}
