/** The only variables a command inherits from the Runtime's environment. */
export const INHERITED_ENV_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
];

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * The environment of a command: the few variables above taken from `parent`, then the profile's
 * `env`. Nothing else leaks through (tokens and API keys in the Runtime's environment stay there).
 */
export function minimalEnv(parent: NodeJS.ProcessEnv, extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENV_NAMES) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  return { ...env, ...extra };
}
