import type { WorkerRef } from '@worker-runtime/core';
import { McpConnection } from './mcp-connection.js';
import type { McpServerConfig } from './mcp-profile.js';
import { ToolBox } from './tool-box.js';

/** How long a server may take to start, complete the handshake, and list its tools. */
const START_TIMEOUT_MS = 30_000;
/** How long a failed tool listing for `describe` is remembered, so polling does not respawn a broken server. */
const DESCRIBE_FAILURE_TTL_MS = 30_000;

type Servers = Readonly<Record<string, McpServerConfig>>;

interface Slot {
  opening: Promise<McpConnection>;
  connection?: McpConnection;
}

interface ServerSet {
  /** The profile's `mcp_servers` as JSON: a Worker whose servers changed gets new processes. */
  fingerprint: string;
  slots: Map<string, Slot>;
}

/**
 * The MCP server processes of every Worker: started lazily on a Worker's first run that needs
 * them, reused by its later runs, restarted when one has died, and stopped when the Worker is
 * released (stopped or deleted) or the pool is closed.
 */
export class McpServerPool {
  readonly #env: NodeJS.ProcessEnv;
  readonly #sets = new Map<string, ServerSet>();
  readonly #descriptions = new Map<string, Promise<string[]>>();
  #closed = false;

  constructor(env: NodeJS.ProcessEnv) {
    this.#env = env;
  }

  /**
   * The tools of `worker`'s servers for one run, starting those that are not running.
   * @throws Error naming the server that cannot start or list its tools; the abort reason
   */
  toolBox(worker: WorkerRef, servers: Servers, signal: AbortSignal): Promise<ToolBox> {
    return this.#open(workerKey(worker), servers, signal);
  }

  /**
   * The model-facing tool names of a profile's servers, listed once per distinct `mcp_servers`
   * (by temporary processes, stopped right after, unless a Worker listed them already).
   * @throws Error naming the server that cannot start or list its tools
   */
  describe(servers: Servers): Promise<string[]> {
    const fingerprint = JSON.stringify(servers);
    let names = this.#descriptions.get(fingerprint);
    if (!names) {
      const key = `describe ${fingerprint}`;
      names = this.#open(key, servers)
        .then((box) => box.names)
        .finally(() => this.#release(key));
      this.#descriptions.set(fingerprint, names);
      names.catch(() => {
        setTimeout(() => this.#descriptions.delete(fingerprint), DESCRIBE_FAILURE_TTL_MS).unref();
      });
    }
    return names;
  }

  async #open(key: string, servers: Servers, signal?: AbortSignal): Promise<ToolBox> {
    if (this.#closed) throw new Error('the runtime is closing; MCP servers are not started');
    const fingerprint = JSON.stringify(servers);
    let set = this.#sets.get(key);
    if (set && set.fingerprint !== fingerprint) {
      await this.#release(key);
      set = undefined;
    }
    if (!set) {
      set = { fingerprint, slots: new Map() };
      this.#sets.set(key, set);
    }
    const current = set;
    const connections = await Promise.all(
      Object.entries(servers).map(([name, config]) => this.#connection(current, name, config, signal)),
    );
    const box = await ToolBox.list(connections, START_TIMEOUT_MS, signal);
    this.#descriptions.set(fingerprint, Promise.resolve(box.names));
    return box;
  }

  /** The running connection to one server of `set`, or a new one when none is running. */
  #connection(set: ServerSet, name: string, config: McpServerConfig, signal?: AbortSignal): Promise<McpConnection> {
    const slot = set.slots.get(name);
    if (slot && (slot.connection === undefined || slot.connection.alive)) return slot.opening;
    // A server that died is stopped for good (its helpers too) and started again.
    void slot?.connection?.close();
    const next: Slot = { opening: McpConnection.open(name, config, this.#env, START_TIMEOUT_MS, signal) };
    set.slots.set(name, next);
    next.opening.then(
      (connection) => {
        next.connection = connection;
      },
      () => {
        if (set.slots.get(name) === next) set.slots.delete(name);
      },
    );
    return next.opening;
  }

  /** Stops the servers of a Worker (stopped or deleted). Resolves once their processes are gone. */
  releaseWorker(worker: WorkerRef): Promise<void> {
    return this.#release(workerKey(worker));
  }

  async #release(key: string): Promise<void> {
    const set = this.#sets.get(key);
    if (!set) return;
    this.#sets.delete(key);
    await Promise.all(
      [...set.slots.values()].map((slot) =>
        slot.opening.then(
          (connection) => connection.close(),
          () => undefined,
        ),
      ),
    );
  }

  /** Stops every server and refuses to start more. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#sets.keys()].map((key) => this.#release(key)));
  }
}

function workerKey(worker: WorkerRef): string {
  return `worker ${worker.runtime_id}/${worker.worker_id}`;
}
