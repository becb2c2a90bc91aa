import { defineConfig } from 'tsup';

// An app, not a library: no declarations.
export default defineConfig({
  entry: ['src/start.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
});
