// The PostgreSQL store

// Finding a runtime's current owner
export type { RuntimeLocation } from './locate-runtime.js';
export { locateRuntime } from './locate-runtime.js';
export type { PgConnection, PgStoreOptions } from './pg-store.js';
export { createPgStore, PgStore } from './pg-store.js';

// Diagnostics the store raises
export type { PgStoreDiagnosticCode } from './store-diagnostics.js';
