import pkg from '../package.json' with { type: 'json' };

/** The version of `@worker-runtime/core` this Runtime runs. */
export const VERSION: string = pkg.version;
