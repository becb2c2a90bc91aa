// The `worker-runtime` binary, callable in-process: `main(argv, io)` resolves to the exit code.
// Everything else is the binary's own; only what an embedder (or a config file generator) needs is here.

export type { ConfigFile } from './config-file.js';
export { ConfigFileSchema } from './config-file.js';
export type { CliIo, StopSignal } from './io.js';
export { processIo } from './io.js';
export { main } from './main.js';
