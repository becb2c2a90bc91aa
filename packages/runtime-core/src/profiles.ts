import * as v from 'valibot';
import { createEchoEngine } from './echo-engine.js';
import type { WorkerEngine } from './engine.js';
import { RuntimeError } from './errors.js';
import { type Profile, type ProfileInfo, ProfileSchema } from './schemas/runtime.js';
import type { ProfileRef } from './schemas/worker.js';
import { toValidationIssues, type ValidationIssue } from './validation.js';

/** The profile name `runtime_default` resolves to when no `default_profile` is configured. */
export const BUILTIN_DEFAULT_PROFILE = 'runtime_default';

/** A profile resolved to its engine. */
export interface ResolvedProfile {
  name: string;
  /** The profile as its engine's `profileSchema` parsed it (defaults applied). */
  profile: Profile;
  engine: WorkerEngine;
  capabilities: readonly string[];
}

/** What {@link ProfileCatalog} is built from (the same fields as in `RuntimeOptions`). */
export interface ProfileCatalogOptions {
  /** Named profiles, each checked with the `profileSchema` of the engine it names. */
  profiles?: Readonly<Record<string, unknown>> | undefined;
  /** Engines profiles may name, besides the built-in `echo` (a same-named engine replaces it). */
  engines?: readonly WorkerEngine[] | undefined;
  /** The profile `runtime_default` means. */
  default_profile?: string | undefined;
}

const BUILTIN_PROFILES: Readonly<Record<string, Record<string, unknown>>> = {
  [BUILTIN_DEFAULT_PROFILE]: { engine: 'echo', description: 'Echoes each input back (built in)' },
  'builtin:echo': { engine: 'echo' },
};

/**
 * Like {@link toValidationIssues}, worded for configuration an operator wrote: a key a strict
 * object does not know reads `unknown field` (a typo, usually), the same for profiles and for a
 * config file's top-level keys.
 */
export function toConfigIssues(issues: readonly v.BaseIssue<unknown>[]): ValidationIssue[] {
  return toValidationIssues(issues).map((issue, index) => {
    const source = issues[index];
    return source?.type === 'strict_object' && source.expected === 'never'
      ? { path: issue.path, message: 'unknown field' }
      : issue;
  });
}

function profileError(name: string, issues: ValidationIssue[]): RuntimeError {
  const first = issues[0] ?? { path: '', message: 'invalid' };
  return new RuntimeError(
    'invalid_request',
    `invalid options in profile "${name}": ${first.path ? `${first.path}: ` : ''}${first.message}`,
    { details: { profile: name, issues } },
  );
}

/** Named profiles plus the engines that run them; resolves a Worker's `profile` reference. */
export class ProfileCatalog {
  readonly defaultName: string;
  readonly #profiles = new Map<string, Profile>();
  readonly #builtinEcho: Profile;
  readonly #engines: Map<string, WorkerEngine>;

  /**
   * Validates every profile with its engine's `profileSchema`.
   * @throws RuntimeError `invalid_request` (with `details.profile` and `details.issues`) for a profile
   *   that names an unknown engine or breaks its engine's schema; `unknown_profile` for a
   *   `default_profile` that is not configured
   */
  constructor(options: ProfileCatalogOptions) {
    const echo = createEchoEngine();
    this.#engines = new Map([[echo.name, echo]]);
    for (const engine of options.engines ?? []) this.#engines.set(engine.name, engine);
    const { 'builtin:echo': builtinEcho, ...builtins } = BUILTIN_PROFILES;
    this.#builtinEcho = this.#parse('builtin:echo', builtinEcho);
    for (const [name, raw] of Object.entries({ ...builtins, ...options.profiles })) {
      this.#profiles.set(name, this.#parse(name, raw));
    }
    this.defaultName = options.default_profile ?? BUILTIN_DEFAULT_PROFILE;
    if (!this.#profiles.has(this.defaultName)) {
      throw new RuntimeError('unknown_profile', `default profile "${this.defaultName}" is not configured`);
    }
  }

  #parse(name: string, raw: unknown): Profile {
    const engineName = typeof raw === 'object' && raw !== null ? (raw as { engine?: unknown }).engine : undefined;
    const engine = typeof engineName === 'string' ? this.#engines.get(engineName) : undefined;
    if (typeof engineName === 'string' && engineName !== '' && engine === undefined) {
      const available = [...this.#engines.keys()].join(', ');
      throw profileError(name, [
        { path: 'engine', message: `names engine "${engineName}", which is not available (available: ${available})` },
      ]);
    }
    const parsed = v.safeParse(engine?.profileSchema ?? ProfileSchema, raw);
    if (!parsed.success) throw profileError(name, toConfigIssues(parsed.issues));
    return parsed.output;
  }

  /**
   * The profile a Worker runs with.
   * @throws RuntimeError `unknown_profile`
   */
  resolve(ref: ProfileRef): ResolvedProfile {
    const name =
      ref.kind === 'runtime_default' ? this.defaultName : ref.kind === 'builtin' ? 'builtin:echo' : ref.value;
    const profile = ref.kind === 'builtin' ? this.#builtinEcho : this.#profiles.get(name);
    const engine = profile ? this.#engines.get(profile.engine) : undefined;
    if (!profile || !engine)
      throw new RuntimeError('unknown_profile', `profile "${name}" is not configured on this runtime`);
    return { name, profile, engine, capabilities: profile.capabilities ?? engine.capabilities ?? [] };
  }

  /** Profiles as shown to clients (names, engines, capabilities; never engine options). */
  list(): ProfileInfo[] {
    return [...this.#profiles].map(([name, profile]) => ({
      name,
      engine: profile.engine,
      description: profile.description ?? null,
      capabilities: [...(profile.capabilities ?? this.#engines.get(profile.engine)?.capabilities ?? [])],
      default: name === this.defaultName,
    }));
  }

  /** Engine names available to profiles. */
  engineNames(): string[] {
    return [...this.#engines.keys()];
  }

  /** Every capability some profile declares. */
  capabilityNames(): string[] {
    return [...new Set(this.list().flatMap((info) => info.capabilities))].sort();
  }
}
