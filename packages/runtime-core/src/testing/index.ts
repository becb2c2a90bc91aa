// Conformance suites: every RuntimeStore implementation runs both, unchanged.

export type { StoreFixture, SuiteHooks } from './fixture.js';
// Record builders, for a store's own tests beside the suites
export { NOW, runRecord, workerRecord } from './records.js';
export { describeRuntimeConformance } from './runtime-suite.js';
export { describeRuntimeStore } from './store-suite.js';
export type { GatedRun, GateEngine } from './test-engines.js';
// Controllable engines for tests
export { createGateEngine } from './test-engines.js';
