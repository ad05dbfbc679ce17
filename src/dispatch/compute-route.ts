import { aws_lambda as lambda, Size, Token } from 'aws-cdk-lib';
import type { RouteRuleConfig } from '../contract/dispatch-config';
import { containsMarker } from '../contract/job-fields';
import type { IFargateJob } from '../job/fargate-job';

/** Options of `ComputeTarget.lambdaFunction()`. */
export interface LambdaComputeOptions {
  /**
   * Relaunch a job on the route's Fargate job when its Lambda run times
   * out, runs out of memory, waited too long to run, or the worker throws an
   * error named `SpilloverRequested`: once per job, as its next run, with
   * the reason in the ledger and logs.
   * @default true when the route has a Fargate job
   */
  readonly spillover?: boolean;

  /**
   * The function's memory, in MiB, for the cost estimates (read from the
   * function when it is a `lambda.Function` of this app).
   * @default - the function's own memory size, or 128
   */
  readonly memorySize?: number;
}

/**
 * Where a routed job runs: a Lambda function (invoked asynchronously, with
 * the job as its event) or a Fargate job (one task per job).
 */
export class ComputeTarget {
  /**
   * Run the job on `fn`, invoked asynchronously (the dispatcher never waits
   * for the work). The route owns the function's asynchronous invocation
   * settings: no retries (a failed run is reported once and handled by the
   * route), and destinations that send each run's record back to the
   * dispatcher (outcome, spillover). A function may serve one route.
   */
  public static lambdaFunction(fn: lambda.IFunction, options: LambdaComputeOptions = {}): ComputeTarget {
    const memory = options.memorySize;
    if (memory !== undefined && !Token.isUnresolved(memory) && (!Number.isInteger(memory) || memory < 128 || memory > 10240)) {
      throw new Error(`memorySize must be a whole number of MiB from 128 to 10,240, got ${memory}`);
    }
    return new ComputeTarget('lambda', fn, undefined, options);
  }

  /** Run the job as one Fargate task of `job`. */
  public static fargate(job: IFargateJob): ComputeTarget {
    return new ComputeTarget('fargate', undefined, job, {});
  }

  /** `lambda` or `fargate`. */
  public readonly kind: string;
  /**
   * The function, for a Lambda target.
   * @default - none for a Fargate target
   */
  public readonly function?: lambda.IFunction;
  /**
   * The job, for a Fargate target.
   * @default - none for a Lambda target
   */
  public readonly job?: IFargateJob;
  /** @internal */
  public readonly _options: LambdaComputeOptions;

  private constructor(kind: string, fn: lambda.IFunction | undefined, job: IFargateJob | undefined, options: LambdaComputeOptions) {
    this.kind = kind;
    this.function = fn;
    this.job = job;
    this._options = options;
  }
}

/**
 * A routing rule: when a job matches, it runs on the rule's target. Rules
 * are evaluated in order, per job, in the dispatcher; the first match wins
 * and the reason is logged and counted (`JobsRouted` by compute model).
 */
export class ComputeRoute {
  /**
   * Jobs smaller than `size`: the S3 object's size, an SQS message body's
   * bytes, or an EventBridge event detail's bytes. A job whose size is
   * unknown (an S3 event without a size, such as a delete) does not match.
   */
  public static whenSizeBelow(size: Size, target: ComputeTarget): ComputeRoute {
    const bytes = size.toBytes();
    if (!Token.isUnresolved(bytes) && bytes < 1) throw new Error(`whenSizeBelow needs a size of at least 1 byte, got ${bytes}`);
    return new ComputeRoute({ kind: 'sizeBelow', bytes }, target, `size below ${bytes} bytes`);
  }

  /** S3 jobs whose object key starts with `prefix`. */
  public static whenKeyStartsWith(prefix: string, target: ComputeTarget): ComputeRoute {
    if (prefix === '') throw new Error('whenKeyStartsWith needs a non-empty prefix (a route without rules uses `otherwise`)');
    return new ComputeRoute({ kind: 'keyPrefix', value: prefix }, target, `key starts with '${prefix}'`);
  }

  /** S3 jobs whose object key ends with `suffix` (for example `.parquet`). */
  public static whenKeyEndsWith(suffix: string, target: ComputeTarget): ComputeRoute {
    if (suffix === '') throw new Error('whenKeyEndsWith needs a non-empty suffix');
    return new ComputeRoute({ kind: 'keySuffix', value: suffix }, target, `key ends with '${suffix}'`);
  }

  /**
   * Jobs whose `field` resolves to exactly `value`: any `JobField`, for
   * example `JobField.fromPath('$.detail.tier')` or `JobField.s3Bucket()`.
   * A job whose event does not carry the field does not match.
   */
  public static whenField(field: string, value: string, target: ComputeTarget): ComputeRoute {
    if (!containsMarker(field)) {
      throw new Error(`whenField needs a JobField marker (JobField.fromPath('$.detail.tier'), JobField.s3Bucket(), ...), got '${field}'`);
    }
    return new ComputeRoute({ kind: 'fieldEquals', field, value }, target, `field is '${value}'`);
  }

  private constructor(
    private readonly rule: Omit<RouteRuleConfig, 'destination'>,
    /** Where matching jobs run. */
    public readonly target: ComputeTarget,
    /** What the rule matches, in words. */
    public readonly description: string,
  ) {}

  /** The `JobField` template the rule resolves, if any. @internal */
  public _fieldTemplate(): string | undefined {
    return this.rule.field;
  }

  /** Whether the rule only matches S3 jobs. @internal */
  public _needsS3(): boolean {
    return this.rule.kind === 'keyPrefix' || this.rule.kind === 'keySuffix';
  }

  /** The rule as the dispatcher evaluates it. @internal */
  public _render(destination: number): RouteRuleConfig {
    return { ...this.rule, destination };
  }
}
