import type { RuntimeEvent } from './schemas/event.js';
import type { OutputDelta } from './schemas/stream.js';

/** Where a watch replays durable events from. */
export interface EventReplaySource {
  /** Up to `limit` durable events with `id > after` (only those naming `worker_id` when given), oldest first. */
  readEvents(query: { after: number; limit: number; worker_id?: string }): Promise<RuntimeEvent[]>;
}

/** What a watch covers. */
export interface WatchScope {
  readonly worker_id?: string;
  readonly run_id?: string;
}

/** Everything one watch starts from, taken in one synchronous step with its live subscription. */
export interface WatchStart {
  readonly scope: WatchScope;
  readonly source: EventReplaySource;
  /** Replay events after this id (`watermark` when only live items are wanted). */
  readonly after: number;
  /** `after` 0 means "the oldest retained event": an expired first read starts there instead. */
  readonly from_oldest: boolean;
  /** The last durable event at subscription time: replay covers up to it, live items come after it. */
  readonly watermark: number;
  readonly batch: number;
  readonly max_buffer_bytes: number;
  /** The entries in progress at subscription time, yielded after the replay. */
  readonly catch_up: readonly OutputDelta[];
  /** Run scope only: the run had already ended at subscription time, so the watch ends after the replay. */
  readonly run_ended: boolean;
  /** Checks that must pass before the first item (e.g. the run exists). */
  readonly verify: () => Promise<void>;
  readonly signal: AbortSignal | undefined;
  /** Called once when the watch stops taking items (ended, failed, dropped or closed). */
  readonly detach: () => void;
  /** The error that ends a consumer more than `max_buffer_bytes` behind. */
  readonly overflow: () => Error;
}
