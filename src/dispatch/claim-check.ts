import { Duration, aws_s3 as s3, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../internal/nag';

/** Options of `ClaimCheck.s3()`. */
export interface ClaimCheckOptions {
  /**
   * The bucket documents are written to.
   * @default - a new bucket: S3-managed encryption, SSL only, public access
   * blocked, objects owned by the bucket owner, documents expire after `expiration`
   */
  readonly bucket?: s3.IBucket;

  /**
   * Key prefix of the documents; ends with `/`. The dispatcher may write and
   * the job's task role may read only under it.
   * @default 'claim-check/'
   */
  readonly prefix?: string;

  /**
   * How long documents are kept in a bucket the claim check creates (a
   * lifecycle rule on `prefix`). Ignored for a bucket you pass.
   * @default Duration.days(7)
   */
  readonly expiration?: Duration;
}

/** The bucket and prefix a dispatcher's claim check uses, once bound. */
export interface ClaimCheckBinding {
  readonly bucket: s3.IBucket;
  readonly prefix: string;
}

/**
 * How a dispatcher passes job input that does not fit the 8,192-character
 * RunTask overrides: as a JSON document in S3 whose URI reaches the container
 * in `HC_PAYLOAD_URI` (or wherever `JobField.payloadUri()` is used).
 */
export class ClaimCheck {
  /** Write oversized job input to S3 (a new bucket unless you pass one). */
  public static s3(options: ClaimCheckOptions = {}): ClaimCheck {
    const prefix = options.prefix ?? 'claim-check/';
    if (!Token.isUnresolved(prefix) && !/^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]{0,499}\/$/.test(prefix)) {
      throw new Error(`claim check prefix must be 1-500 URL-safe characters (letters, digits, !_.*'()-/), not start with '/', and end with '/', got '${prefix}'`);
    }
    const expiration = options.expiration ?? Duration.days(7);
    const days = expiration.toDays({ integral: false });
    if (!Token.isUnresolved(days) && (days < 1 || !Number.isInteger(days))) {
      throw new Error(`claim check expiration must be a whole number of days (1 or more), got ${expiration.toHumanString()}`);
    }
    return new ClaimCheck(true, options.bucket, prefix, expiration);
  }

  /**
   * No claim check: a job whose mapped values exceed the RunTask limit is
   * dead-lettered with the reason, and `JobField.payloadUri()` cannot be used.
   */
  public static disabled(): ClaimCheck {
    return new ClaimCheck(false, undefined, '', Duration.days(1));
  }

  private constructor(
    /** Whether oversized job input is written to S3. */
    public readonly enabled: boolean,
    private readonly bucket: s3.IBucket | undefined,
    private readonly prefix: string,
    private readonly expiration: Duration,
  ) {}

  /** Creates the bucket when needed. @internal */
  public _bind(scope: Construct): ClaimCheckBinding | undefined {
    if (!this.enabled) return undefined;
    if (this.bucket) return { bucket: this.bucket, prefix: this.prefix };
    const bucket = new s3.Bucket(scope, 'ClaimCheckBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { prefix: this.prefix, expiration: this.expiration },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    acknowledgeNag(bucket, [{
      id: 'AwsSolutions-S1',
      reason: 'Claim-check documents are short-lived job input written only by the dispatcher role and read only by the job\'s task role; '
        + 'object-level audit belongs to CloudTrail data events, not a server access log bucket per dispatcher.',
    }]);
    return { bucket, prefix: this.prefix };
  }
}
