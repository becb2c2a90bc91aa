import { ERROR_CODES, type Runtime } from '@worker-runtime/core';
import { afterEach, expect } from 'vitest';
import { type AnyJson, openTestRuntime, type Served, serveOver, type TransportName } from './test-helpers.js';

type RuntimeOptions = Parameters<typeof openTestRuntime>[0];
type AppOptions = Parameters<typeof serveOver>[2];
type Setup = (options?: RuntimeOptions, appOptions?: AppOptions) => ReturnType<typeof openAndServe>;

async function openAndServe(
  transport: TransportName,
  runtimes: Runtime[],
  servers: Served[],
  options: RuntimeOptions,
  appOptions: AppOptions,
) {
  const opened = await openTestRuntime(options);
  runtimes.push(opened.runtime);
  const served = await serveOver(transport, opened.runtime, appOptions);
  servers.push(served);
  return { ...opened, ...served };
}

/**
 * For the app.*.test.ts files (the REST contract, run against both entry points): `setup(transport)`
 * opens a test Runtime served over that transport; everything it opened is closed after each test.
 */
export function useAppSetup(): (transport: TransportName) => Setup {
  const runtimes: Runtime[] = [];
  const servers: Served[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((served) => served.close()));
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
  });
  return (transport) =>
    (options = {}, appOptions = {}) =>
      openAndServe(transport, runtimes, servers, options, appOptions);
}

/** The JSON body of a response, checking it is JSON and carries a request id. */
export async function json(response: Response): Promise<AnyJson> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('x-request-id')).toBeTruthy();
  return response.json();
}

/** Checks the response is a `status` error envelope with `code` (a SPEC §6 code) and returns its error. */
export async function expectError(response: Response, status: number, code: string): Promise<AnyJson> {
  expect(response.status).toBe(status);
  const body = await json(response);
  expect(body.error.code).toBe(code);
  expect(ERROR_CODES).toContain(body.error.code);
  expect(typeof body.error.message).toBe('string');
  return body.error;
}
