import { IConstruct } from 'constructs';

/**
 * An error thrown while `scope` is built: the message starts with the
 * construct path, so a user with many jobs or services knows which one.
 */
export function constructError(scope: IConstruct, message: string): Error {
  return new Error(`${scope.node.path}: ${message}`);
}

/**
 * Runs validation (or building) for `scope`: an error it throws is rethrown
 * with the construct path in front, unless it already names the path.
 */
export function withPath<T>(scope: IConstruct, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof Error && !e.message.includes(scope.node.path)) {
      const error = constructError(scope, e.message);
      error.stack = e.stack;
      throw error;
    }
    throw e;
  }
}
