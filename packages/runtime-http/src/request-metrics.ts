import type { RouteDef } from './route.js';

/** The `route` (and `method`) label of a request no route matched: one series, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

const REQUESTS = 'worker_runtime_http_requests_total';
const REQUESTS_HELP = 'HTTP requests answered, by method and route template (unmatched for none) and status.';
const DURATION = 'worker_runtime_http_request_duration_seconds';
const DURATION_HELP = 'Time to answer an HTTP request (to the start of the body for event streams), by route.';
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** One route's durations: requests per bucket (not cumulative), their sum and count. */
interface RouteSeries {
  /** `method="…",route="…"`, ready for a sample line. */
  labels: string;
  statuses: Map<number, StatusCount>;
  buckets: number[];
  sum: number;
  count: number;
}

interface StatusCount {
  series: RouteSeries;
  status: number;
  count: number;
}

/** A label value as the Prometheus text format writes it (route templates never need it; the format does). */
function labelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * The request counter and duration histogram of an app, kept as plain numbers per route
 * template: prom-client's label children hash their labels on every `inc`/`observe`, which was a
 * measurable share of a cached GET (docs/performance.md). They are written in the Prometheus
 * text format prom-client uses, series in the order they first appeared, when `/metrics` is
 * scraped.
 */
export class RequestMetrics {
  readonly #byRoute = new Map<RouteDef | null, RouteSeries>();
  /** Every (route, status) counted so far, in first-seen order. */
  readonly #counts: StatusCount[] = [];

  /** Counts one answered request: its route (null when none matched), status and duration. */
  record(route: RouteDef | null, status: number, seconds: number): void {
    const series = this.#byRoute.get(route) ?? this.#add(route);
    let counted = series.statuses.get(status);
    if (counted === undefined) {
      counted = { series, status, count: 0 };
      series.statuses.set(status, counted);
      this.#counts.push(counted);
    }
    counted.count += 1;
    for (let i = 0; i < BUCKETS.length; i++) {
      if (seconds <= (BUCKETS[i] as number)) {
        (series.buckets[i] as number) += 1;
        break;
      }
    }
    series.sum += seconds;
    series.count += 1;
  }

  /** The two families in Prometheus text format (without a final newline). */
  render(): string {
    const lines = [`# HELP ${REQUESTS} ${REQUESTS_HELP}`, `# TYPE ${REQUESTS} counter`];
    for (const { series, status, count } of this.#counts) {
      lines.push(`${REQUESTS}{${series.labels},status="${status}"} ${count}`);
    }
    lines.push('', `# HELP ${DURATION} ${DURATION_HELP}`, `# TYPE ${DURATION} histogram`);
    for (const series of this.#byRoute.values()) {
      let total = 0;
      for (let i = 0; i < BUCKETS.length; i++) {
        total += series.buckets[i] as number;
        lines.push(`${DURATION}_bucket{le="${BUCKETS[i]}",${series.labels}} ${total}`);
      }
      lines.push(
        `${DURATION}_bucket{le="+Inf",${series.labels}} ${series.count}`,
        `${DURATION}_sum{${series.labels}} ${series.sum}`,
        `${DURATION}_count{${series.labels}} ${series.count}`,
      );
    }
    return lines.join('\n');
  }

  #add(route: RouteDef | null): RouteSeries {
    const method = route?.method ?? UNMATCHED_ROUTE;
    const path = route?.path ?? UNMATCHED_ROUTE;
    const series: RouteSeries = {
      labels: `method="${labelValue(method)}",route="${labelValue(path)}"`,
      statuses: new Map(),
      buckets: BUCKETS.map(() => 0),
      sum: 0,
      count: 0,
    };
    this.#byRoute.set(route, series);
    return series;
  }
}
