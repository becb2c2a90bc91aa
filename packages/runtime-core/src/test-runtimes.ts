import { afterEach } from 'vitest';
import { Runtime, type RuntimeOptions } from './runtime.js';

/**
 * For a test file: a function that opens a Runtime, and an `afterEach` that closes every Runtime it
 * opened (with `close`'s options).
 */
export function runtimesClosedAfterEach(
  close: { grace_ms?: number } = {},
): (options?: RuntimeOptions) => Promise<Runtime> {
  const open: Runtime[] = [];
  afterEach(async () => {
    for (const rt of open.splice(0)) await rt.close(close);
  });
  return async function openRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
    const rt = await Runtime.open(options);
    open.push(rt);
    return rt;
  };
}
