import type { RuntimeEvent } from './schemas/event.js';
import type { OutputDelta } from './schemas/stream.js';

/** Kinds of the event that ends a run. */
export const RUN_END_EVENT_KINDS: ReadonlySet<string> = new Set([
  'run_completed',
  'run_failed',
  'run_cancelled',
  'run_timed_out',
  'run_interrupted',
]);

interface EntryInProgress {
  readonly delta: Omit<OutputDelta, 'content' | 'offset'>;
  text: string;
}

/**
 * The text so far of the entry each active run is producing, so a watch that (re)connects mid-reply
 * can be caught up. Memory only, and bounded: one entry per active run. An entry is forgotten once
 * it is durable (its `transcript_appended` event) and a run's state once the run ends.
 */
export class RunOutputs {
  readonly #entries = new Map<string, EntryInProgress>();
  readonly #isActive: (worker_id: string, run_id: string) => boolean;

  /** `isActive` guards against output of a run that already ended (a fenced engine). */
  constructor(options: { isActive: (worker_id: string, run_id: string) => boolean }) {
    this.#isActive = options.isActive;
  }

  /** Notes a delta an engine produced. */
  record(delta: OutputDelta): void {
    const key = runKey(delta.worker_ref.worker_id, delta.run_id);
    let current = this.#entries.get(key);
    if (!current || current.delta.entry !== delta.entry) {
      if (!this.#isActive(delta.worker_ref.worker_id, delta.run_id)) return;
      current = {
        delta: { worker_ref: delta.worker_ref, run_id: delta.run_id, entry: delta.entry },
        text: '',
      };
      this.#entries.set(key, current);
    }
    current.text += delta.content;
  }

  /** Notes a durable event: an appended entry is no longer in progress; an ended run has no output. */
  observe(event: RuntimeEvent): void {
    if (event.run_id === undefined || !event.worker_ref) return;
    if (event.kind === 'transcript_appended' || RUN_END_EVENT_KINDS.has(event.kind)) {
      this.#entries.delete(runKey(event.worker_ref.worker_id, event.run_id));
    }
  }

  /** One catch-up delta (offset 0, the text so far) per run in scope that is mid-entry. */
  catchUp(scope: { worker_id?: string; run_id?: string }): OutputDelta[] {
    const deltas: OutputDelta[] = [];
    for (const { delta, text } of this.#entries.values()) {
      if (text === '') continue;
      if (scope.worker_id !== undefined && delta.worker_ref.worker_id !== scope.worker_id) continue;
      if (scope.run_id !== undefined && delta.run_id !== scope.run_id) continue;
      deltas.push({ ...delta, offset: 0, content: text });
    }
    return deltas;
  }

  /** How many runs have an entry in progress. */
  get size(): number {
    return this.#entries.size;
  }
}

function runKey(worker_id: string, run_id: string): string {
  return `${worker_id}/${run_id}`;
}
