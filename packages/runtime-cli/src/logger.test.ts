import { describe, expect, test } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  test('writes one JSON object per line at or above its level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (line) => lines.push(line), clock: () => 0 });
    logger.info('hidden');
    logger.warn('shown', { code: 'x', skipped: undefined });
    logger.error('also shown');
    expect(lines.every((line) => line.endsWith('}\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { time: '1970-01-01T00:00:00.000Z', level: 'warn', msg: 'shown', code: 'x' },
      { time: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'also shown' },
    ]);
  });

  test('fields cannot overwrite level, msg or time', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line), clock: () => 0 });
    logger.debug('real', { level: 'error', msg: 'fake', time: 'never' });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.match(/"level"/g)).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toEqual({ time: '1970-01-01T00:00:00.000Z', level: 'debug', msg: 'real' });
  });

  test('never writes a field named token or authorization', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    logger.info('request', { token: 'secret-1', authorization: 'Bearer secret-2', route: '/v1/workers/:worker_id' });
    expect(lines.join('')).not.toContain('secret');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ msg: 'request', route: '/v1/workers/:worker_id' });
  });
});
