import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, pageLimit, resolveLimits } from './limits.js';

describe('limits', () => {
  test('defaults follow SPEC §11', () => {
    expect(resolveLimits()).toEqual({
      max_workers: 10000,
      max_input_bytes: 1048576,
      max_body_bytes: 2097152,
      max_transcript_page: 1000,
      max_event_batch: 1000,
      max_list_page: 1000,
      max_queued_inputs: 16,
      max_diagnostics: 1000,
      max_wait_ms: 60000,
      max_retained_events: 100000,
      cancel_grace_ms: 2000,
      max_streams: 1000,
      max_stream_buffer_bytes: 1048576,
    });
  });

  test('overrides merge over the defaults', () => {
    expect(resolveLimits({ max_workers: 3 })).toEqual({ ...DEFAULT_LIMITS, max_workers: 3 });
  });

  test.each([
    { max_workers: 0 },
    { max_workers: 1.5 },
    { max_wait_ms: -1 },
    { cancel_grace_ms: 2 ** 31 },
    { unknown_limit: 1 },
  ])('rejects %j', (limits) => {
    expect(() => resolveLimits(limits)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });

  test('a page limit above the maximum is limit_too_large; none means the default clamped to the maximum', () => {
    expect(() => pageLimit(11, 10, 5)).toThrow(expect.objectContaining({ code: 'limit_too_large' }));
    expect(pageLimit(undefined, 10, 256)).toBe(10);
    expect(pageLimit(undefined, 1000, 256)).toBe(256);
    expect(pageLimit(7, 10, 5)).toBe(7);
  });
});
