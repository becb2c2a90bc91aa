import { RuntimeError } from './errors.js';
import { assertValidId, generateId } from './identity.js';
import { Mutex } from './mutex.js';
import type { RuntimeContext } from './runtime-context.js';
import { type CreateWorkerRequest, CreateWorkerRequestSchema, type WorkerDetail } from './schemas/worker.js';
import type { StoreRecord, WorkerRecord } from './store.js';
import { parseOrThrow } from './validation.js';
import { newWorkerState, toDetail } from './worker-state.js';

// Object keys a JavaScript record cannot hold as plain data (valibot's record drops them silently).
const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'];
const EMPTY_LIST: readonly never[] = Object.freeze([]);
const EMPTY_RECORD: Readonly<Record<string, never>> = Object.freeze({});

/** What valibot's record schema would accept but turn into something else: arrays and reserved keys. */
function assertPlainMetadata(metadata: unknown): void {
  if (Array.isArray(metadata)) {
    throw new RuntimeError('invalid_request', 'invalid create request: metadata: must be an object of strings', {
      details: { issues: [{ path: 'metadata', message: 'must be an object of strings, not an array' }] },
    });
  }
  if (!metadata || typeof metadata !== 'object') return;
  const reserved = Object.keys(metadata).filter((key) => RESERVED_KEYS.includes(key));
  if (reserved.length > 0) {
    throw new RuntimeError('invalid_request', `metadata keys ${RESERVED_KEYS.join(', ')} are reserved`, {
      details: { issues: reserved.map((key) => ({ path: `metadata.${key}`, message: 'this key is reserved' })) },
    });
  }
}

/** JSON with object keys sorted, so the same body in another key order has the same fingerprint. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Creates Workers, one at a time (ids and capacity are checked and taken atomically). */
export class WorkerCreation {
  readonly #ctx: RuntimeContext;
  readonly #lock = new Mutex();

  constructor(ctx: RuntimeContext) {
    this.#ctx = ctx;
  }

  /**
   * Creates a Worker from a profile; a repeated `idempotency_key` with the same body answers the
   * worker it created.
   * @throws RuntimeError `invalid_request`, `invalid_id`, `duplicate_worker`, `capacity_exceeded`,
   *   `idempotency_conflict`, `unknown_profile`, `unsupported_capability`, `unsupported_operation`,
   *   `runtime_unavailable`, `store_unavailable`
   */
  async create(request: CreateWorkerRequest): Promise<WorkerDetail> {
    const ctx = this.#ctx;
    ctx.gate.assertWritable();
    const raw = request as { worker_id?: unknown; metadata?: unknown };
    if (raw && typeof raw === 'object' && raw.worker_id !== undefined) assertValidId(raw.worker_id, 'worker_id');
    assertPlainMetadata(raw?.metadata);
    const { idempotency_key, ...req } = parseOrThrow(CreateWorkerRequestSchema, request, 'create request');
    if (req.config_bundle) {
      throw new RuntimeError(
        'unsupported_operation',
        'config bundles are not supported yet; omit config_bundle to use a runtime-local profile',
      );
    }
    const profile = ctx.catalog.resolve(req.profile);
    const unknown = (req.requested_capabilities ?? []).filter((cap) => !profile.capabilities.includes(cap.name));
    if (unknown.length > 0) {
      throw new RuntimeError(
        'unsupported_capability',
        `profile "${profile.name}" does not provide: ${unknown.map((cap) => cap.name).join(', ')}`,
        { details: { unsupported: unknown.map((cap) => cap.name), available: [...profile.capabilities] } },
      );
    }
    const fingerprint = idempotency_key === undefined ? null : canonicalJson(req);
    return this.#lock.run(async () => {
      ctx.gate.assertWritable();
      if (idempotency_key !== undefined) {
        const created = ctx.workers.createdWith(idempotency_key);
        if (created) {
          if (created.record.idempotency?.fingerprint !== fingerprint) {
            throw new RuntimeError(
              'idempotency_conflict',
              'this idempotency_key was already used with a different request',
              {
                details: { idempotency_key },
              },
            );
          }
          return toDetail(created, ctx);
        }
      }
      const worker_id = req.worker_id ?? generateId(ctx.clock.millis());
      if (ctx.workers.has(worker_id)) throw new RuntimeError('duplicate_worker', `worker ${worker_id} already exists`);
      if (ctx.workers.size >= ctx.limits.max_workers) {
        throw new RuntimeError(
          'capacity_exceeded',
          `this runtime already holds its maximum of ${ctx.limits.max_workers} workers`,
          { details: { max_workers: ctx.limits.max_workers } },
        );
      }
      const now = ctx.clock.iso();
      // Absent lists share one frozen empty value: idle workers are many, and committed records are never mutated.
      const record: WorkerRecord = {
        worker_id,
        display_name: req.display_name ?? null,
        intent: req.intent,
        profile: req.profile,
        config_bundle: null,
        requested_capabilities: req.requested_capabilities ?? (EMPTY_LIST as never[]),
        workspace_refs: req.workspace_refs ?? (EMPTY_LIST as never[]),
        mount_refs: req.mount_refs ?? (EMPTY_LIST as never[]),
        metadata: req.metadata ?? (EMPTY_RECORD as Record<string, string>),
        created_at: now,
        status: 'idle',
        stopped_event_id: null,
        ...(idempotency_key !== undefined && fingerprint !== null
          ? { idempotency: { key: idempotency_key, fingerprint } }
          : {}),
      };
      const state = newWorkerState(ctx.runtime_id, {
        worker: record,
        transcript_len: 0,
        last_event_id: 0,
        updated_at: now,
        last_run: null,
      });
      const records: StoreRecord[] = [{ type: 'worker', worker: record }];
      ctx.log.event(records, 'worker_created', `worker ${worker_id} created with profile ${profile.name}`, {
        worker: state.ref,
        data: { profile: profile.name, engine: profile.profile.engine },
      });
      ctx.log.diagnostic(
        records,
        'info',
        'worker.tools_less',
        `worker ${worker_id} has no config bundle: it runs with the runtime-local profile "${profile.name}" and no tools (runtime.local_default_resources)`,
        state.ref,
      );
      await ctx.log.commit(records, [{ kind: 'worker_added', state }]);
      return toDetail(state, ctx);
    });
  }
}
