import type { TestProject } from 'vitest/node';
import { startTestPostgres } from '../../../../scripts/test-postgres.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/** Starts the tests' PostgreSQL and hands its URL to every test file (`inject('databaseUrl')`). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestPostgres();
  project.provide('databaseUrl', server.url);
  return () => server.stop();
}
