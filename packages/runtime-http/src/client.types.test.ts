import type {
  ControlAck,
  EventBatch,
  InputAck,
  RunPage,
  RunRecord,
  Runtime,
  RuntimeSummary,
  TranscriptPage,
  WatchDeltaItem,
  WatchItem,
  WorkerDetail,
  WorkerPage,
} from '@worker-runtime/core';
import { describe, expectTypeOf, test } from 'vitest';
import {
  createRuntimeClient,
  type InputStreamItem,
  type RuntimeClient,
  type StreamRunOptions,
  type WatchEventsOptions,
} from './client.js';

// Compile-time checks (run by `tsc --noEmit`): a backend can swap an embedded Runtime for a remote one.
describe('the typed client mirrors the Runtime API', () => {
  const client = createRuntimeClient({ baseUrl: 'http://127.0.0.1:9' });

  test('methods take the same arguments as the embedded Runtime', () => {
    expectTypeOf(client.createWorker).parameters.toEqualTypeOf<Parameters<Runtime['createWorker']>>();
    // The last overload is the plain one (the streaming one adds `{stream: true}`).
    expectTypeOf<Parameters<RuntimeClient['sendInput']>>().toEqualTypeOf<Parameters<Runtime['sendInput']>>();
    expectTypeOf(client.transcript).parameters.toEqualTypeOf<Parameters<Runtime['transcript']>>();
    expectTypeOf(client.readEvents).parameters.toEqualTypeOf<Parameters<Runtime['readEvents']>>();
  });

  test('methods resolve to the wire types core defines', () => {
    expectTypeOf(client.summary).returns.resolves.toEqualTypeOf<RuntimeSummary>();
    expectTypeOf(client.listWorkers).returns.resolves.toEqualTypeOf<WorkerPage>();
    expectTypeOf(client.getWorker).returns.resolves.toEqualTypeOf<WorkerDetail>();
    expectTypeOf(client.sendInput('w1', { kind: 'user', content: 'hi' })).resolves.toEqualTypeOf<InputAck>();
    expectTypeOf(client.cancelWorker).returns.resolves.toEqualTypeOf<ControlAck>();
    expectTypeOf(client.getRun).returns.resolves.toEqualTypeOf<RunRecord>();
    expectTypeOf(client.listRuns).returns.resolves.toEqualTypeOf<RunPage>();
    expectTypeOf(client.transcript).returns.resolves.toEqualTypeOf<TranscriptPage>();
    expectTypeOf(client.readEvents).returns.resolves.toEqualTypeOf<EventBatch>();
  });

  test('code written against the client accepts an embedded Runtime for the shared methods', () => {
    type Shared = Omit<RuntimeClient, 'health' | 'ready' | 'watchEvents' | 'streamRun' | 'sendInput'>;
    expectTypeOf<Runtime>().toMatchTypeOf<Shared>();
    expectTypeOf<Runtime['sendInput']>().toMatchTypeOf<
      (...args: Parameters<RuntimeClient['sendInput']>) => Promise<InputAck>
    >();
  });

  test('the stream methods are async iterators of the items Runtime#watch yields (plus the ack)', () => {
    const input = { kind: 'user', content: 'hi' } as const;
    expectTypeOf(client.watchEvents()).toEqualTypeOf<AsyncGenerator<WatchItem, void, undefined>>();
    expectTypeOf(client.watchEvents).parameter(0).toEqualTypeOf<WatchEventsOptions | undefined>();
    expectTypeOf<WatchEventsOptions>().toHaveProperty('after').toEqualTypeOf<number | undefined>();
    expectTypeOf<WatchEventsOptions>().toHaveProperty('worker_id').toEqualTypeOf<string | undefined>();
    expectTypeOf(client.streamRun('w1', 'r1')).toEqualTypeOf<AsyncGenerator<WatchItem, void, undefined>>();
    expectTypeOf<StreamRunOptions>().toHaveProperty('last_event_id').toEqualTypeOf<number | undefined>();
    expectTypeOf(client.sendInput('w1', input, { stream: true })).toEqualTypeOf<
      AsyncGenerator<InputStreamItem, void, undefined>
    >();
    expectTypeOf<Extract<InputStreamItem, { type: 'ack' }>['ack']>().toEqualTypeOf<InputAck>();
    expectTypeOf<Extract<InputStreamItem, { type: 'delta' }>>().toEqualTypeOf<WatchDeltaItem>();
    // @ts-expect-error a stream item is not an ack promise
    expectTypeOf(client.sendInput('w1', input, { stream: true })).resolves.toEqualTypeOf<InputAck>();
  });
});
