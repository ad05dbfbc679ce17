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
  constructor(message: string) {
    super(message);
    this.name = 'DeferredError';
  }
}

/** Whether an error is one of the dispatcher's own (its message says it all). */
export function isDispatchError(e: Error): boolean {
  return e instanceof PermanentError || e instanceof RetryableError || e instanceof DeferredError;
}
