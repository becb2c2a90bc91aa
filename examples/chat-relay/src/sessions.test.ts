import { describe, expect, it } from 'vitest';
import { advance, SessionStore, sessionWorker } from './sessions.js';

describe('SessionStore', () => {
  it('finds a session by its id only, and never by a malformed one', () => {
    const store = new SessionStore(10);
    const session = store.create();
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.get(session.id)).toBe(session);
    expect(store.get(undefined)).toBeNull();
    expect(store.get(`${session.id}x`)).toBeNull();
    expect(store.get('a'.repeat(43))).toBeNull();
  });

  it('forgets the least recently used session beyond its size', () => {
    const store = new SessionStore(2);
    const a = store.create();
    const b = store.create();
    store.get(a.id);
    const c = store.create();
    expect(store.get(b.id)).toBeNull();
    expect(store.get(a.id)).toBe(a);
    expect(store.get(c.id)).toBe(c);
  });
});

describe('sessionWorker', () => {
  it('creates the Worker once for racing callers, and again after a failed creation', async () => {
    const session = new SessionStore(1).create();
    let calls = 0;
    const failing = sessionWorker(session, async () => {
      calls += 1;
      throw new Error('runtime down');
    });
    await expect(failing).rejects.toThrow('runtime down');
    expect(session.worker).toBeNull();
    const create = async (): Promise<string> => {
      calls += 1;
      return 'w1';
    };
    const [one, two] = await Promise.all([sessionWorker(session, create), sessionWorker(session, create)]);
    expect([one, two, calls]).toEqual(['w1', 'w1', 2]);
  });
});

describe('advance', () => {
  it('moves the watched run’s cursor forward only', () => {
    const session = new SessionStore(1).create();
    session.run = { run_id: 'r1', after: 5 };
    advance(session, 'r1', 9);
    advance(session, 'r1', 7);
    advance(session, 'other', 20);
    expect(session.run).toEqual({ run_id: 'r1', after: 9 });
  });
});
