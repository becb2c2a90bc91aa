// Browser sessions: a random id in an HttpOnly cookie, mapped on the server to one Worker and the
// run the page is watching. The browser never learns a worker id, a run id's Runtime, or a token.
import { randomBytes } from 'node:crypto';

/** The run a session's page is watching, and the last durable event the relay saw of it. */
export interface WatchedRun {
  run_id: string;
  /** Resume cursor: the stream restarts after this event id (Last-Event-ID). */
  after: number;
}

/** One browser session. */
export interface Session {
  readonly id: string;
  /** The session's Worker, created on its first message. */
  worker: Promise<string> | null;
  /** The run whose reply is (or was last) streaming; null when none is. */
  run: WatchedRun | null;
}

/** Session ids: 256 random bits, URL-safe, so a cookie value is checked with a plain lookup. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** Sessions kept in memory, the oldest forgotten first once `max` are held. */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The session a cookie names, or null when the value is unknown or malformed. */
  get(id: string | undefined): Session | null {
    if (id === undefined || !SESSION_ID.test(id)) return null;
    const session = this.#sessions.get(id);
    if (session === undefined) return null;
    // Map order is recency order: re-inserting makes eviction least-recently-used.
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    return session;
  }

  /** A new session with a fresh id. */
  create(): Session {
    const session: Session = { id: randomBytes(32).toString('base64url'), worker: null, run: null };
    this.#sessions.set(session.id, session);
    for (const oldest of this.#sessions.keys()) {
      if (this.#sessions.size <= this.#max) break;
      this.#sessions.delete(oldest);
    }
    return session;
  }
}

/** The session's Worker, created once even when two requests race for it. */
export function sessionWorker(session: Session, create: () => Promise<string>): Promise<string> {
  if (session.worker === null) {
    const creating = create();
    session.worker = creating;
    creating.catch(() => {
      if (session.worker === creating) session.worker = null;
    });
  }
  return session.worker;
}

/** Records the newest event seen of the watched run (two tabs of one session may both be reading it). */
export function advance(session: Session, run_id: string, event_id: number): void {
  if (session.run?.run_id === run_id && event_id > session.run.after) session.run.after = event_id;
}
