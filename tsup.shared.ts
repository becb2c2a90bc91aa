import { defineConfig, type Options } from 'tsup';

/** The one build every package uses: ESM for Node 20 with declarations and source maps. */
export function packageBuildConfig(entry: string[]): Options | Options[] {
  return defineConfig({
    entry,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    // TS 6 deprecates the baseUrl that tsup injects into the declaration build.
    dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
    sourcemap: true,
    clean: true,
  }) as Options | Options[];
}
