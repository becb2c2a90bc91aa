import type * as v from 'valibot';
import type { WorkerRef } from './schemas/common.js';
import type { Profile } from './schemas/runtime.js';
import type { TranscriptEntry, TranscriptEntryExtras, TranscriptRole } from './schemas/transcript.js';
import type { Intent } from './schemas/worker.js';

/** What an engine knows about the Worker it runs for. */
export interface EngineWorker {
  readonly ref: WorkerRef;
  /** The resolved profile, engine options included. */
  readonly profile: Readonly<Profile>;
  readonly profile_name: string;
  readonly intent: Intent;
  readonly display_name: string | null;
  readonly display_ref: string;
}

/** One run handed to an engine. */
export interface EngineRun {
  readonly worker: EngineWorker;
  readonly run_id: string;
  /** The user input that started this run. */
  readonly input: string;
  /** The most recent transcript entries (the run's own user entry included), oldest first. */
  history(limit: number): Promise<TranscriptEntry[]>;
  /** Aborted when the run is cancelled, times out, or the Runtime closes. */
  readonly signal: AbortSignal;
  /**
   * Appends a transcript entry; resolves once it is durable. After the run was cancelled or timed
   * out the entry is dropped (the run is fenced) and this resolves without effect. The optional
   * fields are stored and read back only when given: an `assistant` entry's `tool_calls`, a `tool`
   * entry's `tool_call_id`, `name` and `is_error` (kept only when true).
   */
  append(entry: AppendEntry): Promise<void>;
  /**
   * Reports output progress that is not (yet) a transcript entry, such as a streamed token, so the
   * profile's `idle_timeout_ms` measures silence rather than the time to a whole reply.
   */
  progress(): void;
  /**
   * Reports the next piece of the assistant entry being produced (an output delta: not durable, not
   * an event). It counts as progress. Deltas are numbered by `entry` (0, 1, … within the run; the
   * next assistant `append` completes the entry and moves on to the next) and `offset` (characters
   * of that entry already streamed). `append` still carries the whole entry. Dropped once fenced.
   */
  delta(content: string): void;
}

/** What an engine hands to {@link EngineRun.append}. */
export type AppendEntry = { role: TranscriptRole; content: string } & TranscriptEntryExtras;

/** What {@link WorkerEngine.run} may resolve with. */
export interface EngineResult {
  /**
   * The run's last transcript entry, handed instead of a last `append`: it is committed in the same
   * durable batch as the run's completion (one store write instead of two), with the same events in
   * the same order (`transcript_appended`, then `run_completed`). Checked like `append`'s entry (a
   * malformed one fails the run); dropped like a late `append` when the run was cancelled or timed out.
   */
  final?: AppendEntry;
}

/** What an engine reports about one profile for `/v1/runtime` (see {@link WorkerEngine.describeProfile}). */
export interface ProfileDescription {
  /** The names of the tools the profile offers the model. */
  tools: string[];
  /** Why the tools could not be listed; null when they were. */
  error: string | null;
}

/**
 * What a Worker does with input. One instance serves every Worker whose profile names it; per-run
 * options come from `run.worker.profile`. A thrown error fails the run with its message.
 */
export interface WorkerEngine {
  readonly name: string;
  /** Capability names Workers on this engine may request. */
  readonly capabilities?: readonly string[];
  /**
   * The valibot schema of a profile naming this engine: the common profile fields plus the engine's
   * options, with their defaults. `Runtime.open` validates every such profile with it, and the run
   * sees its output as `run.worker.profile`. Without one, only the common fields are checked.
   */
  readonly profileSchema?: v.GenericSchema<unknown, Profile>;
  /**
   * The capabilities one profile offers (e.g. `tools` when it names tool servers), when they
   * depend on its options; otherwise `capabilities` applies. A profile's own `capabilities` win.
   */
  profileCapabilities?(profile: Readonly<Profile>): readonly string[];
  /**
   * Describes a profile with capability `tools` for `/v1/runtime` (its tool names). Never throws;
   * may be slow the first time (it may start tool servers), so the Runtime asks in the background.
   */
  describeProfile?(profile: Readonly<Profile>): Promise<ProfileDescription>;
  /**
   * Runs one input. Resolving ends the run `completed` (with `final`, its last entry is committed
   * with the completion); rejecting fails it.
   */
  run(run: EngineRun): Promise<void> | Promise<EngineResult | undefined>;
  /**
   * Releases what the engine holds for a Worker (e.g. tool server processes). Called after the
   * Worker was stopped; a failure is recorded as a warning diagnostic, never thrown to the caller.
   */
  releaseWorker?(worker: WorkerRef): Promise<void>;
  /** Releases everything the engine holds; called by `Runtime#close()` once active runs ended. */
  close?(): Promise<void>;
}
