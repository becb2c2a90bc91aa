import { describe, expect, test } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  test('writes one JSON object per line at or above its level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (line) => lines.push(line), clock: () => 0 });
    logger.info('hidden');
    logger.warn('shown', { code: 'x', skipped: undefined });
    logger.error('also shown');
    expect(lines).toEqual([
      '{"time":"1970-01-01T00:00:00.000Z","level":"warn","msg":"shown","code":"x"}\n',
      '{"time":"1970-01-01T00:00:00.000Z","level":"error","msg":"also shown"}\n',
    ]);
  });

  test('fields cannot overwrite level, msg or time', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line), clock: () => 0 });
    logger.debug('real', { level: 'error', msg: 'fake', time: 'never' });
    expect(JSON.parse(lines[0] as string)).toEqual({ time: '1970-01-01T00:00:00.000Z', level: 'debug', msg: 'real' });
  });
});
