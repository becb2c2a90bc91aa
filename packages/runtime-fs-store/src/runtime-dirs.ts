import { isValidId, RuntimeError } from '@worker-runtime/core';
import { errnoCode } from './file-io.js';
import { type FsLike, nodeFs } from './fs-like.js';
import { runtimesDir } from './layout.js';

/**
 * The runtime ids stored under `<data_dir>/runtimes/`, sorted. Entries that are not directories
 * named by a valid id are ignored.
 * @throws RuntimeError `store_unavailable` when the directory cannot be read
 */
export async function listFsRuntimes(data_dir: string, fs: FsLike = nodeFs): Promise<string[]> {
  try {
    const entries = await fs.readdir(runtimesDir(data_dir));
    return entries
      .filter((entry) => entry.isDirectory && isValidId(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw new RuntimeError('store_unavailable', `the data directory cannot be read (${errnoCode(error) ?? 'error'})`);
  }
}

/**
 * The runtime to open when none was named: the only one there, or a new id when there is none.
 * @throws RuntimeError `invalid_request` (with `details.runtime_ids`) when there are several
 */
export async function pickRuntimeId(data_dir: string, fs: FsLike, generate: () => string): Promise<string> {
  const ids = await listFsRuntimes(data_dir, fs);
  if (ids.length > 1) {
    throw new RuntimeError(
      'invalid_request',
      `the data directory holds ${ids.length} runtimes (${ids.join(', ')}); name the one to open with runtime_id`,
      { details: { runtime_ids: ids } },
    );
  }
  return ids[0] ?? generate();
}
