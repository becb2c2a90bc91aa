/** Set it to a PostgreSQL URL to run the tests against your own server instead of a temporary one. */
export declare const TEST_DATABASE_URL_ENV = 'WORKER_RUNTIME_TEST_DATABASE_URL';
/** A PostgreSQL the tests can use, and how to stop it. */
export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
}
/**
 * Returns the developer's server when WORKER_RUNTIME_TEST_DATABASE_URL is set; otherwise starts a
 * throwaway PostgreSQL (Debian's binaries) in a temp dir on a free loopback port, trust auth.
 * @throws Error when neither is available, saying how to fix it
 */
export declare function startTestPostgres(): Promise<TestPostgres>;
