import * as v from 'valibot';
import type { AppendEntry, EngineRun } from './engine.js';
import { type TranscriptEntryExtras, TranscriptEntryExtrasSchema, TranscriptRoleSchema } from './schemas/transcript.js';
import { toValidationIssues } from './validation.js';
import type { RunControl } from './worker-state.js';

// The engine's side of a run: the handle it is handed, and the checks of the entries it gives.

/** What `append` checks of an engine's entry: a known role, string content, well-typed extras. */
const AppendSchema = v.object({
  role: TranscriptRoleSchema,
  content: v.string('transcript content must be a string'),
  ...TranscriptEntryExtrasSchema.entries,
});

/** An engine's entry as checked. */
export type AppendedEntry = v.InferOutput<typeof AppendSchema>;

/** @throws TypeError naming the first problem (never echoing the value) for a malformed entry */
export function parseAppend(input: AppendEntry): AppendedEntry {
  const parsed = v.safeParse(AppendSchema, input);
  if (parsed.success) return parsed.output;
  const [issue] = toValidationIssues(parsed.issues);
  throw new TypeError(
    `invalid transcript entry: ${issue?.path ? `${issue.path}: ` : ''}${issue?.message ?? 'invalid'}`,
  );
}

/** The optional fields of an appended entry, only those given (`is_error` only when true); undefined when none is. */
export function entryExtras(entry: AppendedEntry): TranscriptEntryExtras | undefined {
  if (
    entry.tool_calls === undefined &&
    entry.tool_call_id === undefined &&
    entry.name === undefined &&
    entry.is_error !== true
  ) {
    return undefined;
  }
  const extras: TranscriptEntryExtras = {};
  if (entry.tool_calls !== undefined) extras.tool_calls = entry.tool_calls.map((call) => ({ ...call }));
  if (entry.tool_call_id !== undefined) extras.tool_call_id = entry.tool_call_id;
  if (entry.name !== undefined) extras.name = entry.name;
  if (entry.is_error === true) extras.is_error = true;
  return extras;
}

/**
 * The run an engine is handed. A class, so `signal` is a getter on its prototype: on Node 20 an
 * object literal with a getter costs ~1.5 µs to make, a tenth of a whole run's bookkeeping.
 */
export class EngineRunHandle implements EngineRun {
  readonly worker: EngineRun['worker'];
  readonly run_id: string;
  readonly input: string;
  readonly history: EngineRun['history'];
  readonly progress: EngineRun['progress'];
  readonly delta: EngineRun['delta'];
  readonly append: EngineRun['append'];
  readonly #control: RunControl;

  constructor(control: RunControl, run: Omit<EngineRun, 'signal'>) {
    this.#control = control;
    this.worker = run.worker;
    this.run_id = run.run_id;
    this.input = run.input;
    this.history = run.history;
    this.progress = run.progress;
    this.delta = run.delta;
    this.append = run.append;
  }

  // An AbortController costs several µs to make; most runs end without their engine reading it.
  get signal(): AbortSignal {
    this.#control.controller ??= new AbortController();
    return this.#control.controller.signal;
  }
}
