import { Duration, aws_iam as iam, aws_s3 as s3, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ClaimCheckConfig } from '../contract/dispatch-config';
import { acknowledgeWildcardResources, WildcardReason } from '../internal/nag';
import { secureBucket } from '../internal/secure-bucket';

/** Options of `ClaimCheck.s3()`. */
export interface ClaimCheckOptions {
  /**
   * The bucket documents are written to.
   * @default - the stack's claim-check bucket (`<stack>/ClaimCheckBucket`, shared by the
   * dispatchers of the stack, each under its own prefix): S3-managed encryption, SSL only,
   * public access blocked, objects owned by the bucket owner, documents expire after `expiration`
   */
  readonly bucket?: s3.IBucket;

  /**
   * Key prefix of the documents; ends with `/`. The dispatcher may write and
   * the job's task role may read only under it, so dispatchers sharing a
   * bucket cannot read each other's documents.
   * @default - 'claim-check/<startedBy of the dispatcher>/'
   */
  readonly prefix?: string;

  /**
   * How long documents are kept in the stack's claim-check bucket (a
   * lifecycle rule on `prefix`), at least 15 days: a relaunch (a tracker
   * retry, or a failed-job redrive up to 14 days later) reads the document
   * of the first run. Ignored for a bucket you pass: give it a rule as long.
   * @default Duration.days(30)
   */
  readonly expiration?: Duration;
}

/** A dispatcher's claim check, once bound: its bucket, grants and config. @internal */
export interface ClaimCheckBinding {
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  /** The dispatcher role's wildcard (PutObject under the prefix), explained for cdk-nag. */
  readonly writerWildcard: WildcardReason;
  /** The handler's view. */
  config(): ClaimCheckConfig;
}

/** Who writes and who reads the documents. @internal */
export interface ClaimCheckParties {
  /** The dispatcher's `startedBy`: the default prefix is `claim-check/<startedBy>/`. */
  readonly startedBy: string;
  /** The dispatcher's role. */
  readonly writer: iam.IRole;
  /** Who reads documents: the job's task role, and a route's Lambda workers. */
  readonly readers: iam.IRole[];
}

/**
 * How a dispatcher passes job input that does not fit the 8,192-character
 * RunTask overrides: as a JSON document in S3 whose URI reaches the container
 * in `HC_PAYLOAD_URI` (or wherever `JobField.payloadUri()` is used).
 */
export class ClaimCheck {
  /** Write oversized job input to S3 (a new bucket unless you pass one). */
  public static s3(options: ClaimCheckOptions = {}): ClaimCheck {
    const prefix = options.prefix;
    // Only characters that SigV4 and S3 leave unencoded: the dispatcher signs the
    // document's path itself, and '!*'()' are encoded by one and not the other.
    if (prefix !== undefined && !Token.isUnresolved(prefix) && !/^[A-Za-z0-9_.-][A-Za-z0-9_./-]{0,499}\/$/.test(prefix)) {
      throw new Error('claim check prefix must be 1-500 characters of letters, digits and _.-/ (characters that need no URL encoding, '
        + `so the path the dispatcher signs is the path S3 checks), not start with '/', and end with '/', got '${prefix}'`);
    }
    const expiration = options.expiration ?? Duration.days(30);
    const days = expiration.toDays({ integral: false });
    if (!Token.isUnresolved(days) && (days < 15 || !Number.isInteger(days))) {
      throw new Error('claim check expiration must be a whole number of days, at least 15 (a failed job can be redriven for 14 days, '
        + `and its relaunch reads the same document), got ${expiration.toHumanString()}`);
    }
    return new ClaimCheck(true, options.bucket, prefix, expiration);
  }

  /**
   * No claim check: a job whose mapped values exceed the RunTask limit is
   * dead-lettered with the reason, and `JobField.payloadUri()` cannot be used.
   */
  public static disabled(): ClaimCheck {
    return new ClaimCheck(false, undefined, undefined, Duration.days(1));
  }

  private constructor(
    /** Whether oversized job input is written to S3. */
    public readonly enabled: boolean,
    private readonly bucket: s3.IBucket | undefined,
    private readonly prefix: string | undefined,
    private readonly expiration: Duration,
  ) {}

  /**
   * Finds or creates the stack's bucket when none was given, adds the
   * expiration of this dispatcher's prefix to it, and grants exactly what the
   * claim check uses: the dispatcher writes, and the job's task role reads,
   * documents under the prefix only (with the key's data-key and decrypt
   * actions for a KMS bucket). @internal
   */
  public _bind(scope: Construct, parties: ClaimCheckParties): ClaimCheckBinding | undefined {
    if (!this.enabled) return undefined;
    const prefix = this.prefix ?? `claim-check/${parties.startedBy}/`;
    let bucket = this.bucket;
    if (!bucket) {
      const shared = stackClaimCheckBucket(scope);
      shared.addLifecycleRule({ prefix, expiration: this.expiration });
      bucket = shared;
    }
    const objects = bucket.arnForObjects(`${prefix}*`);
    parties.writer.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] }));
    // SSE-KMS PutObject needs a data key, nothing more (a single-part PUT).
    bucket.encryptionKey?.grant(parties.writer, 'kms:GenerateDataKey');
    for (const reader of parties.readers) {
      iam.Grant.addToPrincipal({ grantee: reader, actions: ['s3:GetObject'], resourceArns: [objects] });
      bucket.encryptionKey?.grantDecrypt(reader);
      const readerPolicy = reader.node.tryFindChild('DefaultPolicy');
      if (readerPolicy) acknowledgeWildcardResources(readerPolicy, [documentsWildcard(prefix, 's3:GetObject')]);
    }
    return {
      bucket,
      prefix,
      writerWildcard: documentsWildcard(prefix, 's3:PutObject'),
      config: () => ({ bucket: bucket.bucketName, endpoint: `https://${bucket.bucketRegionalDomainName}`, prefix }),
    };
  }
}

/** The id of the stack's claim-check bucket. */
const STACK_BUCKET_ID = 'ClaimCheckBucket';

/** The claim-check bucket of `scope`'s stack (`<stack>/ClaimCheckBucket`), created on first use. */
function stackClaimCheckBucket(scope: Construct): s3.Bucket {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(STACK_BUCKET_ID);
  if (existing instanceof s3.Bucket) return existing;
  if (existing) {
    throw new Error(`${stack.node.path} has a construct with id '${STACK_BUCKET_ID}' that is not a bucket, but that id is where dispatchers `
      + 'find the stack\'s claim-check bucket: rename that construct, or pass ClaimCheck.s3({ bucket }) to the dispatchers');
  }
  const holds = 'This bucket holds the claim-check documents (job input too large for the RunTask overrides) of the dispatchers of this '
    + 'stack, each under its own prefix, written only by that dispatcher\'s role and read only by its job\'s task role';
  return secureBucket(stack, STACK_BUCKET_ID, [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }], {
    accessLog: `${holds}: object-level audit belongs to CloudTrail data events, not to a server access log bucket.`,
    replication: `${holds}: they are short-lived copies of job input that expire by their prefix's lifecycle rule; the input's own source `
      + 'is where the event came from, so a replica would only copy job input to another region.',
    versioning: `${holds}: each document is written once, under a key derived from its content (SHA-256), and never overwritten, `
      + 'so versions would only keep expired documents.',
    kms: `${holds}: encrypted with SSE-S3. For SSE-KMS pass your own bucket (ClaimCheck.s3({ bucket })): the dispatcher then gets `
      + 'kms:GenerateDataKey and the readers kms:Decrypt on its key.',
  });
}

function documentsWildcard(prefix: string, action: string): WildcardReason {
  return {
    matches: (resource, actions) => actions.length === 1 && actions[0] === action && resource.endsWith(`/${prefix}*`),
    reason: `Claim-check documents have one key per job, unknown before the job arrives: ${action} is limited to the '${prefix}' prefix of the claim-check bucket.`,
  };
}
