import type {
  ControlAck,
  EventBatch,
  InputAck,
  RunPage,
  RunRecord,
  Runtime,
  RuntimeSummary,
  TranscriptPage,
  WorkerDetail,
  WorkerPage,
} from '@worker-runtime/core';
import { describe, expectTypeOf, test } from 'vitest';
import { createRuntimeClient, type RuntimeClient } from './client.js';

// Compile-time checks (run by `tsc --noEmit`): a backend can swap an embedded Runtime for a remote one.
describe('the typed client mirrors the Runtime API', () => {
  const client = createRuntimeClient({ baseUrl: 'http://127.0.0.1:9' });

  test('methods take the same arguments as the embedded Runtime', () => {
    expectTypeOf(client.createWorker).parameters.toEqualTypeOf<Parameters<Runtime['createWorker']>>();
    expectTypeOf(client.sendInput).parameters.toEqualTypeOf<Parameters<Runtime['sendInput']>>();
    expectTypeOf(client.transcript).parameters.toEqualTypeOf<Parameters<Runtime['transcript']>>();
    expectTypeOf(client.readEvents).parameters.toEqualTypeOf<Parameters<Runtime['readEvents']>>();
  });

  test('methods resolve to the wire types core defines', () => {
    expectTypeOf(client.summary).returns.resolves.toEqualTypeOf<RuntimeSummary>();
    expectTypeOf(client.listWorkers).returns.resolves.toEqualTypeOf<WorkerPage>();
    expectTypeOf(client.getWorker).returns.resolves.toEqualTypeOf<WorkerDetail>();
    expectTypeOf(client.sendInput).returns.resolves.toEqualTypeOf<InputAck>();
    expectTypeOf(client.cancelWorker).returns.resolves.toEqualTypeOf<ControlAck>();
    expectTypeOf(client.getRun).returns.resolves.toEqualTypeOf<RunRecord>();
    expectTypeOf(client.listRuns).returns.resolves.toEqualTypeOf<RunPage>();
    expectTypeOf(client.transcript).returns.resolves.toEqualTypeOf<TranscriptPage>();
    expectTypeOf(client.readEvents).returns.resolves.toEqualTypeOf<EventBatch>();
  });

  test('code written against the client accepts an embedded Runtime for the shared methods', () => {
    type Shared = Omit<RuntimeClient, 'health' | 'ready'>;
    expectTypeOf<Runtime>().toMatchTypeOf<Shared>();
  });
});
