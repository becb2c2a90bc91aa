import { describe, expect, test } from 'vitest';
import { RuntimeError } from './errors.js';
import { assertValidId, displayRef, generateId, isValidId } from './identity.js';

describe('ids', () => {
  test.each(['../x', '', 'a'.repeat(129), '.hidden', '-dash', 'a/b', 'a b', 'é', 'a\u0000'])('rejects %j', (id) => {
    expect(isValidId(id)).toBe(false);
    expect(() => assertValidId(id)).toThrow(RuntimeError);
    try {
      assertValidId(id);
    } catch (error) {
      expect((error as RuntimeError).code).toBe('invalid_id');
    }
  });

  test.each(['a', 'A1', 'worker-1', 'w.v_2', 'a'.repeat(128), '0'])('accepts %j', (id) => {
    expect(isValidId(id)).toBe(true);
    expect(assertValidId(id)).toBe(id);
  });

  test('generated ids are lowercase UUIDv7, valid, unique and time-ordered', () => {
    const ids = Array.from({ length: 2000 }, () => generateId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(isValidId(id)).toBe(true);
    }
    expect([...ids].sort()).toEqual(ids);
  });

  test('a later clock reading sorts after an earlier one', () => {
    expect(generateId(1_000) < generateId(2_000)).toBe(true);
  });

  test('display_ref prefers display names and falls back to ids', () => {
    expect(displayRef({ worker_id: 'w', display_name: null }, { runtime_id: 'r', display_name: null })).toBe('w@r');
    expect(displayRef({ worker_id: 'w', display_name: 'Ann' }, { runtime_id: 'r', display_name: 'Lab' })).toBe(
      'Ann@Lab',
    );
  });
});
