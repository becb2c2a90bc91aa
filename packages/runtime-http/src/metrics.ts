import { type Runtime, type RuntimeMetricsSnapshot, VERSION } from '@worker-runtime/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RequestMetrics } from './request-metrics.js';
import type { RouteDef } from './route.js';

/** The Prometheus metrics of one app (SPEC §14), in a registry of its own (never prom-client's global one). */
export interface HttpMetrics {
  /** Records one answered request: its route (null when none matched), status and duration. */
  request(route: RouteDef | null, status: number, seconds: number): void;
  /** The metrics in Prometheus text format. */
  render(): Promise<string>;
  /** The content type of {@link HttpMetrics.render}'s text. */
  readonly contentType: string;
  /** Stops observing the Runtime (its run ends and commits). */
  close(): void;
}

const RUN_BUCKETS = [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Builds the metrics of an app over `runtime`. Values the Runtime knows are read from one
 * `runtime.metrics()` snapshot per scrape; run durations and commit latencies come from
 * `runtime.observe`; request counts and durations from the dispatcher ({@link RequestMetrics}). Every label value comes
 * from a closed set (route templates, statuses, kinds), so the number of series is bounded.
 */
export function createHttpMetrics(runtime: Runtime): HttpMetrics {
  const registry = new Registry();
  let snapshot: RuntimeMetricsSnapshot = runtime.metrics();
  const gauge = (name: string, help: string, read: (s: RuntimeMetricsSnapshot) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(snapshot));
      },
    });
  };
  const labelled = <K extends string>(
    type: 'gauge' | 'counter',
    name: string,
    help: string,
    label: string,
    read: (s: RuntimeMetricsSnapshot) => Record<K, number>,
  ): void => {
    const Metric = type === 'gauge' ? Gauge : Counter;
    new Metric({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect(this: Gauge | Counter) {
        this.reset();
        for (const [value, count] of Object.entries(read(snapshot))) {
          if (this instanceof Gauge) this.set({ [label]: value }, count as number);
          else this.inc({ [label]: value }, count as number);
        }
      },
    });
  };

  new Gauge({
    name: 'worker_runtime_info',
    help: 'Always 1; labels name this Runtime, its store and version.',
    labelNames: ['runtime_id', 'store', 'version'],
    registers: [registry],
    collect() {
      this.set({ runtime_id: runtime.runtime_id, store: snapshot.store, version: VERSION }, 1);
    },
  });
  labelled('gauge', 'worker_runtime_workers', 'Workers by status.', 'status', (s) => s.workers);
  gauge('worker_runtime_active_runs', 'Runs executing now.', (s) => s.active_runs);
  gauge('worker_runtime_queued_inputs', 'User inputs waiting for their run, over all Workers.', (s) => s.queued_inputs);
  gauge('worker_runtime_streams', 'Open watches (each live event stream is one).', (s) => s.watches);
  gauge('worker_runtime_last_event_id', 'Id of the newest durable event.', (s) => s.last_event_id);
  gauge('worker_runtime_store_failed', '1 once the store failed and the Runtime accepts no changes.', (s) =>
    s.store_failed ? 1 : 0,
  );
  labelled(
    'counter',
    'worker_runtime_runs_total',
    'Runs that ended, by terminal status.',
    'status',
    (s) => s.runs_ended,
  );
  labelled('counter', 'worker_runtime_events_total', 'Durable events, by kind.', 'kind', (s) => s.events);
  labelled(
    'counter',
    'worker_runtime_diagnostics_total',
    'Diagnostics recorded, by severity.',
    'severity',
    (s) => s.diagnostics,
  );
  new Counter({
    name: 'worker_runtime_store_commit_failures_total',
    help: 'Batches the store failed to write.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(snapshot.store_commit_failures);
    },
  });

  const runDuration = new Histogram({
    name: 'worker_runtime_run_duration_seconds',
    help: 'Run duration from start to terminal state, by terminal status.',
    labelNames: ['status'],
    buckets: RUN_BUCKETS,
    registers: [registry],
  });
  const commitDuration = new Histogram({
    name: 'worker_runtime_store_commit_seconds',
    help: 'Time from handing a batch to the store until it is durable and applied.',
    buckets: COMMIT_BUCKETS,
    registers: [registry],
  });
  // Written after the registry's families, where prom-client had them.
  const requests = new RequestMetrics();

  const stopObserving = runtime.observe({
    runEnded: ({ status, seconds }) => {
      if (seconds !== null) runDuration.observe({ status }, seconds);
    },
    committed: (seconds) => commitDuration.observe(seconds),
  });

  return {
    request: (route, status, seconds) => requests.record(route, status, seconds),
    async render() {
      snapshot = runtime.metrics();
      return `${await registry.metrics()}\n${requests.render()}\n`;
    },
    contentType: registry.contentType,
    close: stopObserving,
  };
}
