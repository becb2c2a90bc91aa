import { type Diagnostic, generateId, type Severity } from '@worker-runtime/core';

/** Diagnostic codes the fs store raises. */
export type FsStoreDiagnosticCode =
  | 'store_torn_tail_repaired'
  | 'store_corrupt_record'
  | 'store_stray_entry'
  | 'store_index_rebuilt'
  | 'store_worker_rebuilt'
  | 'store_idempotency_damaged'
  | 'store_stale_lock_recovered';

/** A store diagnostic; messages name logical files and ids, never filesystem paths. */
export function storeDiagnostic(
  severity: Severity,
  code: FsStoreDiagnosticCode,
  message: string,
  now: string = new Date().toISOString(),
): Diagnostic {
  return { id: generateId(), severity, code, message, created_at: now };
}

/** The warning for a worker whose idempotency log lost records. */
export function idempotencyDamaged(worker_id: string): Diagnostic {
  return storeDiagnostic(
    'warning',
    'store_idempotency_damaged',
    `the idempotency log of worker ${worker_id} lost records; a replay of a lost key is refused with idempotency_conflict instead of running again`,
  );
}

/**
 * The diagnostics of taking the runtime's lock and picking it: a stale lock taken over (reported
 * before recovery's) and the `runtimes/` entries that hold no runtime (after them).
 */
export function openDiagnostics(
  took_over_pid: number | null,
  strays: readonly string[],
  now: string,
): { first: Diagnostic[]; last: Diagnostic[] } {
  const first =
    took_over_pid === null
      ? []
      : [
          storeDiagnostic(
            'warning',
            'store_stale_lock_recovered',
            `the lock left by process ${took_over_pid}, which is no longer running, was taken over`,
            now,
          ),
        ];
  const last = strays.map((stray) =>
    storeDiagnostic(
      'info',
      'store_stray_entry',
      `runtimes/${stray} holds no runtime (no valid runtime.json or journal); it was ignored`,
      now,
    ),
  );
  return { first, last };
}
