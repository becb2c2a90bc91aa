// Group commit itself (its two-stage pipeline included) is core's, shared with every store.
export { type CommitStages, GroupCommit } from '@worker-runtime/core';

/** A promise and the function that resolves it (the store's "next group is readable" signal). */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
