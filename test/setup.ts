import { SnapshotNormalizer } from '../src/testing/snapshot-normalizer';

// Snapshots change only when the template really changes: asset hashes and
// the latest-Node.js-runtime mappings are replaced by placeholders.
expect.addSnapshotSerializer(SnapshotNormalizer.jestSerializer());

// aws-local-stepfunctions needs Promise.withResolvers (Node.js >= 22).
if (typeof (Promise as any).withResolvers !== 'function') {
  (Promise as any).withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
