import { join } from 'node:path';
import { isValidId, RuntimeError } from '@worker-runtime/core';
import * as v from 'valibot';
import { errnoCode, readSmallFile, withFile } from './file-io.js';
import { RuntimeFileSchema } from './file-schemas.js';
import { type FsLike, nodeFs } from './fs-like.js';
import { RUNTIME_FILES, runtimesDir } from './layout.js';

/** What `<data_dir>/runtimes/` holds. */
interface RuntimeDirs {
  /** Directories that hold a runtime, sorted. */
  runtime_ids: string[];
  /** Directories named like a runtime id that hold none (no valid runtime.json, no journal, no checkpoint), sorted. */
  strays: string[];
}

async function nonEmpty(fs: FsLike, path: string): Promise<boolean> {
  try {
    return await withFile(fs, path, 'r', async (fd) => (await fs.fsize(fd)) > 0);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

function isRuntimeFile(raw: Buffer | null, runtime_id: string): boolean {
  if (raw === null) return false;
  try {
    const parsed = v.safeParse(RuntimeFileSchema, JSON.parse(raw.toString('utf8')));
    return parsed.success && parsed.output.runtime_id === runtime_id;
  } catch {
    return false;
  }
}

/**
 * A directory holds a runtime when its runtime.json is valid and names it, or when a checkpoint or
 * journal shows one was written there (recovery rewrites a damaged runtime.json from the name).
 * An empty or foreign directory is not a runtime, so it is never adopted as "the only one".
 */
async function holdsRuntime(fs: FsLike, dir: string, runtime_id: string): Promise<boolean> {
  if (isRuntimeFile(await readSmallFile(fs, join(dir, RUNTIME_FILES.runtime)), runtime_id)) return true;
  if (await nonEmpty(fs, join(dir, RUNTIME_FILES.checkpoint))) return true;
  return nonEmpty(fs, join(dir, RUNTIME_FILES.journal));
}

/**
 * Scans `<data_dir>/runtimes/`: directories named by a valid id that hold a runtime, and those
 * that hold none. Other entries (files, names that are not ids) are ignored.
 * @throws RuntimeError `store_unavailable` when the directory cannot be read
 */
async function scanRuntimeDirs(data_dir: string, fs: FsLike = nodeFs): Promise<RuntimeDirs> {
  const root = runtimesDir(data_dir);
  const found: RuntimeDirs = { runtime_ids: [], strays: [] };
  try {
    const names = (await fs.readdir(root))
      .filter((entry) => entry.isDirectory && isValidId(entry.name) && entry.name !== '.' && entry.name !== '..')
      .map((entry) => entry.name)
      .sort();
    for (const name of names) {
      if (await holdsRuntime(fs, join(root, name), name)) found.runtime_ids.push(name);
      else found.strays.push(name);
    }
    return found;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return found;
    throw new RuntimeError('store_unavailable', `the data directory cannot be read (${errnoCode(error) ?? 'error'})`);
  }
}

/**
 * The runtime ids stored under `<data_dir>/runtimes/`, sorted. Entries that are not directories
 * named by a valid id, or that hold no runtime, are ignored.
 * @throws RuntimeError `store_unavailable` when the directory cannot be read
 */
export async function listFsRuntimes(data_dir: string, fs: FsLike = nodeFs): Promise<string[]> {
  return (await scanRuntimeDirs(data_dir, fs)).runtime_ids;
}

/**
 * The runtime to open when none was named: the only one there, or a new id when there is none;
 * with the stray directories seen on the way, for the caller to report.
 * @throws RuntimeError `invalid_request` (with `details.runtime_ids`) when there are several
 */
export async function pickRuntimeId(
  data_dir: string,
  fs: FsLike,
  generate: () => string,
): Promise<{ runtime_id: string; strays: string[] }> {
  const { runtime_ids: ids, strays } = await scanRuntimeDirs(data_dir, fs);
  if (ids.length > 1) {
    throw new RuntimeError(
      'invalid_request',
      `the data directory holds ${ids.length} runtimes (${ids.join(', ')}); choose one of them by its runtime id`,
      { details: { runtime_ids: ids } },
    );
  }
  return { runtime_id: ids[0] ?? generate(), strays };
}
