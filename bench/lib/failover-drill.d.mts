/** Where and how long to run a drill. */
export interface DrillOptions {
  /** The built `worker-runtime` binary (packages/runtime-cli/dist/cli.js). */
  cliPath: string;
  databaseUrl: string;
  /** A writable temp dir for the config file and the executions log. */
  dir: string;
  leaseMs?: number;
}

/** What a failover drill measured. */
export interface FailoverDrillResult {
  rounds: number;
  inputs: number;
  interrupted: number;
  completed: number;
  /** Per round: ms from SIGKILL of the owner to the standby's ready line. */
  takeover_ms: number[];
}

/** Kills the owner `rounds` times; throws when an invariant breaks. */
export function runFailoverDrill(
  options: DrillOptions & { rounds?: number; log?: (line: string) => void },
): Promise<FailoverDrillResult>;

/** Pauses the owner past its lease, lets a standby take over, resumes it. */
export function runPausedOwnerDrill(
  options: DrillOptions,
): Promise<{ unchanged: boolean; exit_code: number | null; run_status: string; owner_log: string }>;

/** Which check a listing is: a round's, right after its takeover, or the final one. */
export type DrillCheck = { final: false; round: number; kill?: string } | { final: true };

/**
 * Lists worker `w`'s runs at `url` and checks them against `acked` (idempotency key → run id): the
 * acks recorded before the listing was asked for must each be there once; throws when not, with a
 * message naming the check (`the check of round 3 (after kill 3: …)`, or `the final check (…)`).
 */
export function checkRuns(
  url: string,
  acked: Map<string, string>,
  executionsPath: string,
  check: DrillCheck,
): Promise<{ interrupted: number; completed: number }>;
