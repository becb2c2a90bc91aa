// The store

// File-system seam (inject faults in tests)
export type { DirEntry, FsLike } from './fs-like.js';
export { nodeFs } from './fs-like.js';
export type { FsStoreOptions } from './fs-store.js';
export { createFsStore, FsStore } from './fs-store.js';
// Data directory helpers
export { listFsRuntimes } from './runtime-dirs.js';

// Diagnostics the store raises
export type { FsStoreDiagnosticCode } from './store-diagnostics.js';
