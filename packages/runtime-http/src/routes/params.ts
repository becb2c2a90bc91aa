import { IdSchema } from '@worker-runtime/core';
import * as v from 'valibot';

/** `{worker_id}` in a path (documentation only: the Runtime checks ids and answers `invalid_id`). */
export const WorkerParamsSchema = v.object({ worker_id: IdSchema });

/** `{worker_id}` and `{run_id}` in a path. */
export const RunParamsSchema = v.object({ worker_id: IdSchema, run_id: IdSchema });
