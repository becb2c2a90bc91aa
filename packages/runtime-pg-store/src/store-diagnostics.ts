import { type Diagnostic, generateId, type Severity } from '@worker-runtime/core';

/** Diagnostic codes the PostgreSQL store raises. */
export type PgStoreDiagnosticCode = 'store_lease_taken_over';

/** A store diagnostic; messages name runtimes and hosts' advertised URLs, never credentials. */
export function storeDiagnostic(
  severity: Severity,
  code: PgStoreDiagnosticCode,
  message: string,
  now: string,
): Diagnostic {
  return { id: generateId(), severity, code, message, created_at: now };
}
