import { isRuntimeError, type ProfileInput, Runtime, RuntimeError, type RuntimeSummary } from '@worker-runtime/core';
import { createBuiltinEngines } from '@worker-runtime/engines';
import { type RuntimeServer, serveRuntime } from '@worker-runtime/http';
import { profileErrorInFile } from './config-file.js';
import { logStoreDiagnostics } from './diagnostic-log.js';
import { loadEngineModules } from './engine-modules.js';
import type { CliIo, StopSignal } from './io.js';
import { createLogger, type Logger } from './logger.js';
import type { ServeConfig } from './serve-config.js';
import { envName } from './serve-options.js';
import { logStoreFailure } from './store-failure-log.js';
import { createStore, openAsStandby, type StoreEvents } from './store-selection.js';

/** Exit code after a signal during startup or a second one during shutdown: 128 + signal number. */
export const SIGNAL_EXIT_CODES: Readonly<Record<StopSignal, number>> = Object.freeze({ SIGINT: 130, SIGTERM: 143 });

/** How long shutdown may take beyond the runs' cancel grace (in-flight requests, the store flush). */
const SHUTDOWN_SLACK_MS = 10_000;

/** How long a signal during startup waits for an open in progress, to release what it acquired. */
const STARTUP_ABORT_GRACE_MS = 2_000;

async function openRuntime(config: ServeConfig, io: CliIo, logger: Logger, events: StoreEvents): Promise<Runtime> {
  // Core's echo is built in; the CLI adds this package's engines and the config file's modules
  // (a module's engine replaces a built-in one of the same name).
  const engines = [
    ...createBuiltinEngines({ env: io.env as NodeJS.ProcessEnv }),
    ...(await loadEngineModules(config.engine_modules)),
  ];
  try {
    return await openAsStandby(config, logger, async () => {
      const store = createStore(config, events);
      return Runtime.open({
        ...(config.runtime_id !== undefined ? { runtime_id: config.runtime_id } : {}),
        ...(config.display_name !== undefined ? { display_name: config.display_name } : {}),
        ...(store !== undefined ? { store } : {}),
        ...(config.default_profile !== undefined ? { default_profile: config.default_profile } : {}),
        // Unchecked JSON from the config file: Runtime.open checks each profile with its engine's schema.
        profiles: config.profiles as Record<string, ProfileInput>,
        engines,
        limits: config.limits,
      });
    });
  } catch (error) {
    const inFile = config.config_file === undefined ? error : profileErrorInFile(error, config.config_file);
    if (inFile !== error) throw inFile;
    // The fs store lists the runtimes it found; tell the operator how to pick one here.
    const ids = isRuntimeError(error) ? error.details?.runtime_ids : undefined;
    if (!isRuntimeError(error) || !Array.isArray(ids)) throw error;
    throw new RuntimeError(
      error.code,
      `the data directory holds ${ids.length} runtimes (${ids.join(', ')}); choose one with --runtime-id or ${envName('runtime_id')}`,
      { details: { runtime_ids: ids } },
    );
  }
}

function withDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([work.then(() => true), expired]).finally(() => clearTimeout(timer));
}

/** Everything startup acquires, released together. */
interface Started {
  runtime: Runtime;
  server: RuntimeServer;
  /** Stops logging a store failure. */
  stopFailureLog: () => void;
  summary: RuntimeSummary;
  /** When the Runtime began opening: diagnostics its store raised since then are logged. */
  openedAt: string;
}

/** Opens the Runtime and starts the server; on failure releases what it opened and throws. */
async function start(config: ServeConfig, io: CliIo, logger: Logger, events: StoreEvents): Promise<Started> {
  const openedAt = new Date().toISOString();
  const runtime = await openRuntime(config, io, logger, events);
  const stopFailureLog = logStoreFailure({ runtime, logger });
  try {
    const server = await serveRuntime({
      runtime,
      host: config.host,
      port: config.port,
      token: config.token,
      allowedHosts: config.allowed_hosts,
      log: ({ level, msg, ...fields }) => logger.log(level, msg, fields),
    });
    try {
      return { runtime, server, stopFailureLog, summary: await runtime.summary(), openedAt };
    } catch (error) {
      await server.close();
      throw error;
    }
  } catch (error) {
    stopFailureLog();
    await runtime.close();
    throw error;
  }
}

/**
 * A signal arrived before the ready line: give an open in progress a short grace to finish, so its
 * lock and port are released, then give up on it (a hung open must not hold the process; the fs
 * store takes a stale lock over at the next start).
 */
async function abortStartup(
  startup: Promise<Started>,
  signal: StopSignal,
  logger: Logger,
  graceMs: number,
): Promise<number> {
  logger.warn('interrupted while starting', { signal });
  const release = startup.then(
    ({ runtime, server, stopFailureLog }) => {
      stopFailureLog();
      return Promise.all([server.close(), runtime.close()]);
    },
    // Startup failed after the signal and has released what it held; the signal decides the exit.
    () => undefined,
  );
  await withDeadline(
    release.catch(() => undefined),
    graceMs,
  );
  return SIGNAL_EXIT_CODES[signal];
}

/** Options of {@link runServe}. */
export interface RunServeOptions {
  /** How long a signal during startup waits for the open in progress before exiting anyway (ms). */
  startupAbortGraceMs?: number;
}

/**
 * Runs a Runtime behind REST until SIGINT/SIGTERM: prints one ready line on stdout, logs JSON lines
 * on stderr, and on the first signal stops accepting, interrupts active runs and flushes the store.
 * A second signal exits at once (130 for SIGINT, 143 for SIGTERM). A signal before the ready line
 * aborts startup: it logs `interrupted while starting` and exits 130/143 without a ready line.
 * @returns the exit code: 0 after a clean shutdown, 1 when it overran its deadline, 130/143 when startup was interrupted
 * @throws RuntimeError from startup (`store_locked`, `runtime_unavailable` when the port is taken, …)
 */
export async function runServe(
  config: ServeConfig,
  io: CliIo,
  { startupAbortGraceMs = STARTUP_ABORT_GRACE_MS }: RunServeOptions = {},
): Promise<number> {
  const logger = createLogger({ level: config.log_level, write: (line) => io.stderr(line) });
  let received: StopSignal | null = null;
  let onStop: (signal: StopSignal) => void = () => undefined;
  const stopRequested = new Promise<StopSignal>((resolve) => {
    onStop = resolve;
  });
  const removeHandler = io.onSignal((signal) => {
    if (received !== null) {
      logger.warn('second signal, exiting without a clean shutdown', { signal });
      io.exit(SIGNAL_EXIT_CODES[signal]);
      return;
    }
    received = signal;
    onStop(signal);
  });
  // Losing the postgres lease ends the process like a signal does, but exits 1: it did not ask to stop.
  let onLeaseLost: (error: RuntimeError) => void = () => undefined;
  const leaseLost = new Promise<RuntimeError>((resolve) => {
    onLeaseLost = resolve;
  });
  try {
    const startup = start(config, io, logger, { onLeaseLost: (error) => onLeaseLost(error) });
    const first = await Promise.race([startup, stopRequested]);
    if (typeof first === 'string') return await abortStartup(startup, first, logger, startupAbortGraceMs);
    const { runtime, server, stopFailureLog, summary, openedAt } = first;
    // Only once startup won: a startup abandoned to a signal logs nothing more.
    logStoreDiagnostics({ runtime, logger, openedAt });
    const profiles = summary.profiles.map((profile) => profile.name).join(',');
    io.stdout(
      `worker-runtime listening on ${server.url} runtime=${summary.runtime_id} store=${summary.store} profiles=${profiles}\n`,
    );
    logger.info('runtime started', {
      url: server.url,
      runtime_id: summary.runtime_id,
      store: summary.store,
      default_profile: summary.default_profile,
      auth: config.token === undefined ? 'none' : 'bearer',
      version: summary.version,
    });

    const stop = await Promise.race([stopRequested, leaseLost]);
    if (typeof stop === 'string') {
      logger.info('shutting down', { signal: stop, active_runs: (await runtime.summary()).active_runs });
    } else {
      logger.error('lost ownership of the runtime, shutting down', { code: stop.code, reason: stop.message });
    }
    // Stop accepting and close the Runtime together: closing answers waiting long-polls, so the
    // server's in-flight requests can finish.
    const deadline = runtime.limits.cancel_grace_ms + SHUTDOWN_SLACK_MS;
    stopFailureLog();
    const finished = await withDeadline(Promise.all([server.close(), runtime.close()]), deadline);
    if (!finished) {
      logger.error('shutdown did not finish in time', { deadline_ms: deadline });
      return 1;
    }
    logger.info('stopped', { runtime_id: summary.runtime_id });
    return typeof stop === 'string' ? 0 : 1;
  } finally {
    removeHandler();
  }
}
