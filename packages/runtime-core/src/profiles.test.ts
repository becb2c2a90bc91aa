import * as v from 'valibot';
import { describe, expect, expectTypeOf, test } from 'vitest';
import { type EchoProfile, EchoProfileSchema, type ParsedEchoProfile } from './echo-engine.js';
import type { EngineRun, WorkerEngine } from './engine.js';
import { isRuntimeError } from './errors.js';
import { Runtime } from './runtime.js';
import { PROFILE_COMMON_ENTRIES, type Profile, type ProfileInput } from './schemas/runtime.js';

async function openError(options: Parameters<typeof Runtime.open>[0]): Promise<{ message: string; details: unknown }> {
  try {
    const runtime = await Runtime.open(options);
    await runtime.close();
  } catch (error) {
    if (!isRuntimeError(error)) throw error;
    expect(error.code).toBe('invalid_request');
    return { message: error.message, details: error.details };
  }
  throw new Error('Runtime.open accepted the profiles');
}

/** An engine that records the profile each run sees. */
function recordingEngine(schema?: WorkerEngine['profileSchema']): WorkerEngine & { seen: Profile[] } {
  const seen: Profile[] = [];
  return {
    name: 'recording',
    ...(schema ? { profileSchema: schema } : {}),
    seen,
    async run(run: EngineRun): Promise<void> {
      seen.push(run.worker.profile);
    },
  };
}

async function firstRunProfile(runtime: Runtime, profile: string, engine: { seen: Profile[] }): Promise<Profile> {
  const worker = await runtime.createWorker({
    intent: { kind: 'assistant' },
    profile: { kind: 'named', value: profile },
  });
  const ack = await runtime.sendInput(worker.worker_id, { kind: 'user', content: 'x' });
  await runtime.getRun(worker.worker_id, ack.run_id as string, { wait_ms: 10_000 });
  return engine.seen[0] as Profile;
}

describe('profiles are validated with their engine schema at Runtime.open', () => {
  test('echo options are checked, with the field named', async () => {
    expect(await openError({ profiles: { slow: { engine: 'echo', delay_ms: -1 } } })).toEqual({
      message: 'invalid options in profile "slow": delay_ms: Invalid value: Expected >=0',
      details: { profile: 'slow', issues: [{ path: 'delay_ms', message: 'Invalid value: Expected >=0' }] },
    });
    expect((await openError({ profiles: { p: { engine: 'echo', stream_chunk_ms: 1.5 } } })).message).toMatch(
      /^invalid options in profile "p": stream_chunk_ms: /,
    );
    expect((await openError({ profiles: { p: { engine: 'echo', prefix: 7 } } })).message).toMatch(
      /^invalid options in profile "p": prefix: Invalid type/,
    );
  });

  test('a typo in a profile key reads "unknown field"', async () => {
    expect(await openError({ profiles: { p: { engine: 'echo', prefx: '> ' } } })).toEqual({
      message: 'invalid options in profile "p": prefx: unknown field',
      details: { profile: 'p', issues: [{ path: 'prefx', message: 'unknown field' }] },
    });
  });

  test('a missing or unknown engine is refused naming what is available', async () => {
    expect((await openError({ profiles: { p: { engine: 'nope' } } })).message).toBe(
      'invalid options in profile "p": engine: names engine "nope", which is not available (available: echo)',
    );
    expect((await openError({ profiles: { p: { description: 'x' } as unknown as ProfileInput } })).message).toBe(
      'invalid options in profile "p": engine: is required',
    );
  });

  test("a run sees the profile as its engine's schema parsed it, defaults applied", async () => {
    const schema = v.strictObject({
      engine: v.literal('recording'),
      ...PROFILE_COMMON_ENTRIES,
      level: v.optional(v.number(), 3),
    });
    const engine = recordingEngine(schema);
    const runtime = await Runtime.open({ engines: [engine], profiles: { rec: { engine: 'recording' } } });
    try {
      expect(await firstRunProfile(runtime, 'rec', engine)).toEqual({ engine: 'recording', level: 3 });
    } finally {
      await runtime.close();
    }
    expect((await openError({ engines: [engine], profiles: { rec: { engine: 'recording', levl: 1 } } })).message).toBe(
      'invalid options in profile "rec": levl: unknown field',
    );
  });

  test('an engine without a schema gets the common fields checked and its options passed through', async () => {
    const engine = recordingEngine();
    expect(
      (await openError({ engines: [engine], profiles: { rec: { engine: 'recording', run_timeout_ms: 0 } } })).message,
    ).toMatch(/^invalid options in profile "rec": run_timeout_ms: /);
    const runtime = await Runtime.open({ engines: [engine], profiles: { rec: { engine: 'recording', level: 1 } } });
    try {
      expect(await firstRunProfile(runtime, 'rec', engine)).toEqual({ engine: 'recording', level: 1 });
    } finally {
      await runtime.close();
    }
  });

  test('the echo schema fills in its documented defaults', () => {
    const profile: EchoProfile = { engine: 'echo' };
    expect(v.parse(EchoProfileSchema, profile)).toEqual({
      engine: 'echo',
      prefix: 'echo: ',
      delay_ms: 0,
      stream_chunk_ms: 0,
    });
  });
});

describe('profile types', () => {
  test('input types take what a user writes (defaults optional); parsed types carry the defaults', () => {
    const echo: EchoProfile = { engine: 'echo', prefix: '> ' };
    // @ts-expect-error a misspelt option is a compile error too
    const typo: EchoProfile = { engine: 'echo', prefx: '> ' };
    const other: ProfileInput = { engine: 'command', command: ['cat'], run_timeout_ms: 1000 };
    // @ts-expect-error every profile names its engine
    const nameless: ProfileInput = { description: 'x' };
    expect([echo, typo, other, nameless]).toHaveLength(4);
    expectTypeOf<ParsedEchoProfile['delay_ms']>().toEqualTypeOf<number>();
    expectTypeOf<EchoProfile['delay_ms']>().toEqualTypeOf<number | undefined>();
  });
});
