import { type AppendEntry, type EngineRun, type TranscriptRole, TranscriptRoleSchema } from '@worker-runtime/core';
import * as v from 'valibot';

const JsonlEntrySchema = v.looseObject({
  role: TranscriptRoleSchema,
  content: v.string('must be a string'),
});

/** One jsonl line: an entry to append, or (`{"delta": "…"}`) the next piece of the entry being produced. */
type JsonlLine = { role: TranscriptRole; content: string } | { delta: string };

/**
 * Turns a program's jsonl output into the run's entries and deltas, in the order printed. Which
 * entry is the last is only known once the program exits, so the latest entry is held until the
 * program prints another line, exits, or stays silent for `holdMs`: an entry still held when the
 * output ends is the run's final entry (committed with the run's completion, one store write less);
 * every other one is appended, each durable before the next. `holdMs` 0 appends every entry at once.
 */
export class JsonlOutput {
  readonly #run: EngineRun;
  readonly #holdMs: number;
  readonly #fail: (error: Error) => void;
  #lineNumber = 0;
  // Appends and deltas are chained so they land in the order the program printed them; after one
  // append failed, later ones are skipped so the transcript has no hole.
  #chain: Promise<void> = Promise.resolve();
  #appendFailed = false;
  #held: AppendEntry | null = null;
  #holdTimer: NodeJS.Timeout | undefined;

  /** `fail` stops the program and fails the run (an invalid line, a refused append). */
  constructor(run: EngineRun, holdMs: number, fail: (error: Error) => void) {
    this.#run = run;
    this.#holdMs = holdMs;
    this.#fail = fail;
  }

  /** Takes one complete line of output. */
  take(line: string): void {
    this.#lineNumber += 1;
    if (line.trim() === '') return;
    const parsed = parseJsonlLine(line, this.#lineNumber);
    // Whatever comes next, the held entry was not the last: it goes first.
    this.#release();
    if (parsed instanceof Error) {
      this.#fail(parsed);
      return;
    }
    if ('delta' in parsed) {
      const { delta } = parsed;
      this.#enqueue(() => this.#run.delta(delta));
    } else if (this.#holdMs === 0) {
      this.#enqueue(() => this.#run.append(parsed));
    } else {
      this.#held = parsed;
      // Unref'd: the wait alone must never keep a process alive (the child's pipes do while it runs).
      this.#holdTimer = setTimeout(() => this.#release(), this.#holdMs).unref();
    }
  }

  /**
   * The output ended. When the run `completes` (the program exited 0, nothing failed), resolves with
   * the held entry to hand as the run's final entry; otherwise the held entry is appended like the
   * others. Resolves once every earlier append is durable.
   */
  async end(completes: boolean): Promise<AppendEntry | undefined> {
    clearTimeout(this.#holdTimer);
    const last = this.#held;
    this.#held = null;
    if (last !== null && !completes) this.#enqueue(() => this.#run.append(last));
    await this.#chain;
    return completes && !this.#appendFailed && last !== null ? last : undefined;
  }

  #release(): void {
    clearTimeout(this.#holdTimer);
    const entry = this.#held;
    if (entry === null) return;
    this.#held = null;
    this.#enqueue(() => this.#run.append(entry));
  }

  #enqueue(step: () => void | Promise<void>): void {
    this.#chain = this.#chain
      .then(() => {
        if (this.#run.signal.aborted || this.#appendFailed) return;
        return step();
      })
      .catch((error: unknown) => {
        this.#appendFailed = true;
        this.#fail(error instanceof Error ? error : new Error(String(error)));
      });
  }
}

function parseJsonlLine(line: string, lineNumber: number): JsonlLine | Error {
  const where = `line ${lineNumber} of the command's output`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return new Error(`${where} is not JSON (expected {"role", "content"}): ${snippet(line)}`);
  }
  if (value !== null && typeof value === 'object' && 'delta' in value && !('role' in value)) {
    const { delta } = value;
    if (typeof delta === 'string') return { delta };
    return new Error(`${where} has a "delta" that is not a string: ${snippet(line)}`);
  }
  const result = v.safeParse(JsonlEntrySchema, value);
  if (!result.success) {
    const issue = result.issues[0];
    const field = issue ? v.getDotPath(issue) : null;
    const reason = field ? `${field}: ${issue?.message}` : 'expected an object {"role", "content"}';
    return new Error(`${where} is not a transcript entry (${reason}): ${snippet(line)}`);
  }
  return { role: result.output.role, content: result.output.content };
}

function snippet(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
