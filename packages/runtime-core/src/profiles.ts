import * as v from 'valibot';
import { createEchoEngine } from './echo-engine.js';
import type { WorkerEngine } from './engine.js';
import { RuntimeError } from './errors.js';
import { type Profile, type ProfileInfo, ProfileSchema } from './schemas/runtime.js';
import type { ProfileRef } from './schemas/worker.js';

/** The profile name `runtime_default` resolves to when no `default_profile` is configured. */
export const BUILTIN_DEFAULT_PROFILE = 'runtime_default';

/** A profile resolved to its engine. */
export interface ResolvedProfile {
  name: string;
  profile: Profile;
  engine: WorkerEngine;
  capabilities: readonly string[];
}

/** Named profiles plus the engines that run them; resolves a Worker's `profile` reference. */
export class ProfileCatalog {
  readonly defaultName: string;
  readonly #profiles: Map<string, Profile>;
  readonly #engines: Map<string, WorkerEngine>;

  /** @throws RuntimeError `invalid_request` or `unknown_profile` for a broken configuration */
  constructor(options: {
    profiles?: Record<string, unknown>;
    engines?: readonly WorkerEngine[];
    default_profile?: string;
  }) {
    const echo = createEchoEngine();
    this.#engines = new Map([[echo.name, echo]]);
    for (const engine of options.engines ?? []) this.#engines.set(engine.name, engine);
    this.#profiles = new Map([
      [BUILTIN_DEFAULT_PROFILE, { engine: 'echo', description: 'Echoes each input back (built in)' }],
    ]);
    for (const [name, raw] of Object.entries(options.profiles ?? {})) {
      const parsed = v.safeParse(ProfileSchema, raw);
      if (!parsed.success) {
        throw new RuntimeError('invalid_request', `profile "${name}": ${parsed.issues[0]?.message ?? 'invalid'}`);
      }
      if (!this.#engines.has(parsed.output.engine)) {
        throw new RuntimeError(
          'invalid_request',
          `profile "${name}" names engine "${parsed.output.engine}", which is not available`,
        );
      }
      this.#profiles.set(name, parsed.output);
    }
    this.defaultName = options.default_profile ?? BUILTIN_DEFAULT_PROFILE;
    if (!this.#profiles.has(this.defaultName)) {
      throw new RuntimeError('unknown_profile', `default profile "${this.defaultName}" is not configured`);
    }
  }

  /**
   * The profile a Worker runs with.
   * @throws RuntimeError `unknown_profile`
   */
  resolve(ref: ProfileRef): ResolvedProfile {
    const name =
      ref.kind === 'runtime_default' ? this.defaultName : ref.kind === 'builtin' ? 'builtin:echo' : ref.value;
    const profile = ref.kind === 'builtin' ? { engine: 'echo' } : this.#profiles.get(name);
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
