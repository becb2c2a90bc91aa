// Conformance suites: every RuntimeStore implementation runs both, unchanged.
export { describeRuntimeConformance } from './runtime-suite.js';
export { describeRuntimeStore } from './store-suite.js';
export type { StoreFixture } from './fixture.js';

// Controllable engines for tests
export { createGateEngine } from './test-engines.js';
export type { GateEngine, GatedRun } from './test-engines.js';
