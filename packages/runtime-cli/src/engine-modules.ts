import { basename, isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuntimeError, type WorkerEngine } from '@worker-runtime/core';
import { resolve as resolveModule } from 'import-meta-resolve';

/** Where `engine_modules` are listed and resolved from. */
export interface EngineModuleSource {
  /** The specifiers as written in the config file. */
  specifiers: readonly string[];
  /** The config file's directory: relative paths and package names resolve from here. */
  dir: string;
  /** The config file's basename, for messages. */
  file: string;
}

function isPath(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || isAbsolute(specifier);
}

function isEngine(value: unknown): value is WorkerEngine {
  const candidate = value as Partial<WorkerEngine> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.name === 'string' &&
    candidate.name !== '' &&
    typeof candidate.run === 'function'
  );
}

/** The engines a module offers: a named `engines` array, or a default export of one engine or an array. */
function enginesOf(exports: Record<string, unknown>): WorkerEngine[] {
  const offered = exports.engines ?? exports.default;
  const list = Array.isArray(offered) ? offered : [offered];
  return list.every(isEngine) ? list : [];
}

/** The URL `import()` loads: a path from `dir`, or a package resolved as an `import` in `dir` would be. */
function moduleUrl(specifier: string, dir: string): string {
  if (isPath(specifier)) return pathToFileURL(resolvePath(dir, specifier)).href;
  return resolveModule(specifier, pathToFileURL(resolvePath(dir, 'config.json')).href);
}

/**
 * Loads the engines named by a config file's `engine_modules` with `import()`. Each entry is a
 * package name (resolved from the config file's directory) or a path starting with `./`, `../` or
 * `/`. A module exports its engines as a named `engines` array, or as its default export (one engine
 * or an array). Messages name the entry, never a full path.
 * @throws RuntimeError `invalid_request` when a module cannot be found or loaded, or offers no engine
 */
export async function loadEngineModules({ specifiers, dir, file }: EngineModuleSource): Promise<WorkerEngine[]> {
  const engines: WorkerEngine[] = [];
  for (const [index, specifier] of specifiers.entries()) {
    const label = `engine_modules[${index}] ("${isPath(specifier) ? basename(specifier) : specifier}")`;
    const fail = (reason: string): RuntimeError =>
      new RuntimeError('invalid_request', `invalid config file ${file}: ${label}: ${reason}`);
    let exports: Record<string, unknown>;
    try {
      exports = (await import(moduleUrl(specifier, dir))) as Record<string, unknown>;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
        throw fail('cannot be found (install the package, or check the path)');
      }
      // The error's own message may quote paths; its name or code is enough to act on.
      throw fail(`cannot be loaded (${code ?? (error as Error).name ?? 'error'})`);
    }
    const offered = enginesOf(exports);
    if (offered.length === 0) {
      throw fail('exports no engine (export an "engines" array, or a default engine or array of engines)');
    }
    engines.push(...offered);
  }
  return engines;
}
