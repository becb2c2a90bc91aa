import type { Diagnostic } from '@worker-runtime/core';
import type { FsLike } from './fs-like.js';

/** Options of {@link createFsStore}. */
export interface FsStoreOptions {
  /** The data directory; runtimes live under `<data_dir>/runtimes/<runtime_id>/`. */
  data_dir: string;
  /** Journal size (bytes) that triggers a checkpoint. Smaller: faster reopen, more fsyncs. */
  checkpoint_bytes?: number;
  /**
   * How many materialized files may stay open for appending (default 1024). Each active worker
   * appends to about four files; below that many descriptors, every group reopens (and truncates) some.
   */
  max_open_files?: number;
  /**
   * Also receives diagnostics found after open, e.g. a corrupt record skipped by a read. (A Runtime
   * records them anyway, through `StoreOpenRequest.report_diagnostic`.)
   */
  on_diagnostic?: (diagnostic: Diagnostic) => void;
  /** The file system (tests inject faults through it). */
  fs?: FsLike;
}
