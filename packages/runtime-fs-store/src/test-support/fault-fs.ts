import { basename } from 'node:path';
import { type FsLike, nodeFs } from '../fs-like.js';

/** A rule that makes matching calls fail with an errno code. */
export interface Fault {
  /** Which call fails. */
  call: 'write' | 'fdatasync' | 'fsync';
  /** Base name of the file it fails on, e.g. `journal.jsonl`. */
  file: string;
  code: 'ENOSPC' | 'EIO' | 'EROFS';
  /** For writes: how many bytes really reach the file before the failure (a torn append). */
  partial_bytes?: number;
}

/** The real file system with faults switched on at will, plus counters of what was called. */
export interface FaultFs extends FsLike {
  fault: Fault | null;
  readonly counts: { fdatasync: number; fsync: number; bytes_read: number };
}

/** Wraps {@link nodeFs}: calls go through unchanged until `fault` is set. */
export function faultFs(): FaultFs {
  const names = new Map<number, string>();
  const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
  const matches = (call: Fault['call'], fd: number) =>
    fs.fault?.call === call && names.get(fd) === fs.fault.file ? fs.fault : null;
  const fs: FaultFs = {
    ...nodeFs,
    fault: null,
    counts: { fdatasync: 0, fsync: 0, bytes_read: 0 },
    async open(path, flags) {
      const fd = await nodeFs.open(path, flags);
      names.set(fd, basename(path));
      return fd;
    },
    async write(fd, buffer, offset, length, position) {
      const fault = matches('write', fd);
      if (!fault) return nodeFs.write(fd, buffer, offset, length, position);
      if (fault.partial_bytes) await nodeFs.write(fd, buffer, offset, Math.min(length, fault.partial_bytes), position);
      throw errno(fault.code);
    },
    async read(fd, buffer, offset, length, position) {
      const n = await nodeFs.read(fd, buffer, offset, length, position);
      fs.counts.bytes_read += n;
      return n;
    },
    async fdatasync(fd) {
      fs.counts.fdatasync++;
      const fault = matches('fdatasync', fd);
      if (fault) throw errno(fault.code);
      return nodeFs.fdatasync(fd);
    },
    async fsync(fd) {
      fs.counts.fsync++;
      const fault = matches('fsync', fd);
      if (fault) throw errno(fault.code);
      return nodeFs.fsync(fd);
    },
  };
  return fs;
}
