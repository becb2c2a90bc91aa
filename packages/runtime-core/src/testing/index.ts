// Conformance suites every RuntimeStore implementation runs (filled in next).
export type { StoreFixture } from './fixture.js';
