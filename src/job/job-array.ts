import { Token } from 'aws-cdk-lib';
import { parseJobPath } from '../contract/job-fields';
import { MAX_ARRAY_SIZE } from '../contract/ledger';

/** What an array job does when a child ends without success. */
export enum ArrayFailurePolicy {
  /**
   * Each child is retried like any job (the tracker's `retryAttempts` and
   * `retryRules`); the parent completes when every child has its final
   * outcome: SUCCEEDED if all succeeded, FAILED otherwise.
   */
  RETRY_CHILDREN = 'RETRY_CHILDREN',
  /**
   * The first child that ends without success fails the parent: no child
   * is retried, children not launched yet are cancelled (never launched),
   * children already running finish. The parent completes FAILED when the
   * last running child stops.
   */
  FAIL_PARENT = 'FAIL_PARENT',
}

/** Options of an array job. */
export interface JobArrayOptions {
  /**
   * What happens when a child ends without success.
   * @default ArrayFailurePolicy.RETRY_CHILDREN
   */
  readonly onChildFailure?: ArrayFailurePolicy;
}

/**
 * Turns each job into an array job, like an AWS Batch array job: one event
 * launches N children, each a task of its own launched exactly once (its
 * own ledger item, id `<job id>[<index>]`), with `HC_ARRAY_INDEX` (0-based),
 * `HC_ARRAY_SIZE` and `HC_ARRAY_JOB_ID` in its environment. When the last
 * child has its final outcome, one `Array Job Completed` event reports the
 * children's counts. Needs tracking (the tracker counts the children).
 */
export class JobArray {
  /** A fixed number of children per job (2 to 10,000). */
  public static ofSize(size: number, options: JobArrayOptions = {}): JobArray {
    if (!Token.isUnresolved(size) && (!Number.isInteger(size) || size < 2 || size > MAX_ARRAY_SIZE)) {
      throw new Error(`JobArray.ofSize() takes a whole number of children from 2 to ${MAX_ARRAY_SIZE.toLocaleString('en-US')}, got ${size}`);
    }
    return new JobArray(size, undefined, options.onChildFailure ?? ArrayFailurePolicy.RETRY_CHILDREN);
  }

  /**
   * One child per element of the list at `path` in the event (the syntax
   * of `JobField.fromPath()`, e.g. `$.detail.files`), 1 to 10,000 elements;
   * each child gets its element in `HC_ARRAY_ELEMENT` (a string as is,
   * anything else as JSON). An event without the list, or with an empty or
   * longer one, is dead-lettered with the reason. Keep elements small (keys,
   * ids): a child's overrides must fit RunTask's 8,192 characters.
   */
  public static fromList(path: string, options: JobArrayOptions = {}): JobArray {
    parseJobPath(path);
    return new JobArray(undefined, path, options.onChildFailure ?? ArrayFailurePolicy.RETRY_CHILDREN);
  }

  /**
   * The fixed number of children.
   * @default - none: one child per element of the list at `listPath`
   */
  public readonly size?: number;

  /**
   * The path of the list whose elements are the children.
   * @default - none: a fixed `size`
   */
  public readonly listPath?: string;

  /** What happens when a child ends without success. */
  public readonly onChildFailure: ArrayFailurePolicy;

  private constructor(size: number | undefined, listPath: string | undefined, onChildFailure: ArrayFailurePolicy) {
    this.size = size;
    this.listPath = listPath;
    this.onChildFailure = onChildFailure;
  }
}
