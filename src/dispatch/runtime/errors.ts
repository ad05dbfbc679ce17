/** A record that can never launch: it is dead-lettered with this reason. */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** A launch that did not happen but may on a later delivery. */
export class RetryableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryableError';
  }
}

/** A record left in the queue because the target has no room for it now (the running-task cap). */
export class DeferredError extends Error {
  /**
   * `progressAt`: when the record's work last moved on (epoch ms; an array
   * job's cursor): its carry-over is bounded in age from then, not from its
   * first enqueue.
   */
  constructor(message: string, public readonly progressAt?: number) {
    super(message);
    this.name = 'DeferredError';
  }
}

/**
 * An array job whose children did not all launch within this invocation:
 * its record is carried over at once (a new message, no delay), and the
 * next delivery launches from where the ledger's cursor stands.
 */
export class ContinuationError extends DeferredError {
  constructor(message: string) {
    super(message, Date.now());
    this.name = 'ContinuationError';
  }
}

/** Whether an error is one of the dispatcher's own (its message says it all). */
export function isDispatchError(e: Error): boolean {
  return e instanceof PermanentError || e instanceof RetryableError || e instanceof DeferredError;
}
