import type { RuntimeContext } from './runtime-context.js';
import type { RuntimeCapabilities, RuntimeSummary } from './schemas/runtime.js';
import { VERSION } from './version.js';
import { workerStatus } from './worker-state.js';

/** Engines, capabilities, input kinds and busy policies this Runtime supports. */
export function capabilities(ctx: RuntimeContext): RuntimeCapabilities {
  return {
    engines: ctx.catalog.engineNames(),
    capabilities: ctx.catalog.capabilityNames(),
    input_kinds: ['user', 'system'],
    busy_policies: ['reject', 'enqueue', 'interrupt'],
    config_bundles: false,
  };
}

/** Ids, status, counts, limits, capabilities and profiles of this Runtime. */
export function summary(ctx: RuntimeContext): RuntimeSummary {
  const workers = { total: 0, idle: 0, running: 0, stopped: 0 };
  let queued = 0;
  for (const state of ctx.workers.values()) {
    workers.total++;
    workers[workerStatus(state)]++;
    queued += state.queue.length;
  }
  return {
    runtime_id: ctx.runtime_id,
    display_name: ctx.display_name,
    status: ctx.gate.status,
    store: ctx.store.kind,
    workers,
    active_runs: workers.running,
    queued_inputs: queued,
    last_event_id: ctx.log.lastEventId,
    limits: { ...ctx.limits },
    capabilities: capabilities(ctx),
    profiles: ctx.catalog.list(),
    default_profile: ctx.catalog.defaultName,
    version: VERSION,
    started_at: ctx.started_at,
  };
}
