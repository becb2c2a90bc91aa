import * as v from 'valibot';

// biome-ignore lint/suspicious/noControlCharactersInRegex: a NUL byte is exactly what we reject.
const NUL = /\u0000/;

/** A string the OS can carry in argv or the environment (no NUL byte). */
export const OsStringSchema = v.pipe(
  v.string(),
  v.check((value) => !NUL.test(value), 'must not contain a NUL byte'),
);

/** An environment variable name, e.g. `OPENAI_API_KEY`. */
export const EnvNameSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits, _)'),
);

/** A byte cap on what an engine collects from its program or provider. */
export const MaxOutputBytesSchema = v.optional(
  v.pipe(
    v.number(),
    v.integer(),
    v.minValue(1, 'must be at least 1'),
    v.maxValue(64 * 1024 * 1024, 'must be at most 64 MiB'),
  ),
  1024 * 1024,
);
