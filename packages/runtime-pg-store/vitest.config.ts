import { mergeConfig } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared.ts';

// One PostgreSQL for the whole run (started unless WORKER_RUNTIME_TEST_DATABASE_URL names one).
export default mergeConfig(packageTestConfig('runtime-pg-store'), {
  test: { globalSetup: ['./src/test-support/global-setup.ts'] },
});
