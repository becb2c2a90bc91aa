import type { Diagnostic, StoreSnapshot } from '@worker-runtime/core';
import type { Checkpointer } from './checkpointer.js';
import type { FileWriter } from './file-writer.js';
import type { GroupCommit } from './group-commit.js';
import type { EventIdReservation } from './id-reservation.js';
import type { IndexedReads } from './indexed-reads.js';
import type { Journal, JournalBatch } from './journal.js';
import type { RuntimeLayout } from './layout.js';
import type { Materializer } from './materializer.js';
import type { SerializedBatch } from './record-json.js';
import type { RecordTables } from './record-tables.js';
import type { StoreState } from './store-state.js';

/** Everything an open fs store holds (what `FsStore.open` builds and `close` releases). */
export interface OpenState {
  layout: RuntimeLayout;
  state: StoreState;
  journal: Journal;
  writer: FileWriter;
  group: GroupCommit<SerializedBatch, WrittenGroup>;
  /**
   * Workers created by batches enqueued but not applied yet (later batches may name them). Applied
   * workers are in `state.workers`, so this never holds more than the commits in flight.
   */
  creating: Set<string>;
  /** Event ids reserved ahead in `reserved-ids.json`. */
  ids: EventIdReservation;
  nextBatch: number;
  /** The journal offset after the last applied group: what a checkpoint folds in. */
  journalEnd: number;
  materializer: Materializer;
  checkpoints: Checkpointer;
  tables: RecordTables;
  reads: IndexedReads;
  /** `retention.max_retained_events`, when set: the event log keeps only about the newest this many. */
  retained: number | undefined;
}

/** A group appended to the journal: its numbered batches and what is due after it. */
export interface WrittenGroup {
  batches: JournalBatch[];
  /** The journal offset after the group. */
  journal_end: number;
  /** Resolves once the group's fdatasync returned (the commit point); publishing waits for it. */
  durable: Promise<void>;
  /**
   * A delete, an event-log trim or an idempotency expiry: its steps (`exclusive-steps.ts`) run at
   * once, with no later group appended meanwhile.
   */
  exclusive: boolean;
  /** The journal outgrew `checkpoint_bytes`: checkpoint behind the commits. */
  checkpoint: boolean;
}

/** What `open` hands the Runtime: the recovered state in creation order. */
export function storeSnapshot(state: StoreState, recovery_diagnostics: Diagnostic[]): StoreSnapshot {
  return {
    runtime: { ...state.runtime },
    workers: [...state.workers.values()].sort((a, b) => a.ordinal - b.ordinal).map((unit) => unit.toStored()),
    last_event_id: state.events.count,
    deleted_workers: [...state.deleted],
    diagnostics: structuredClone(state.diagnostics),
    recovery_diagnostics,
  };
}
