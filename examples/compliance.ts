import { Validations, aws_s3 as s3 } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges rules of the NIST 800-53 R5 and HIPAA Security packs on an
 * example's own resource (both packs' ids, one reason), as an application
 * acknowledges its own choices.
 */
export function acknowledgeCompliance(construct: IConstruct, acks: Array<{ rule: string; reason: string }>): void {
  Validations.of(construct).acknowledge(...acks.flatMap((a) => [`NIST.800.53.R5-${a.rule}`, `HIPAA.Security-${a.rule}`].map((id) => ({ id, reason: a.reason }))));
}

/**
 * The example buckets' choices: sample data that expires after 30 days, so
 * no replication, versioning or KMS key of their own. A real application
 * decides these per bucket.
 */
export function acknowledgeExampleBucket(bucket: s3.IBucket, holds: string): void {
  acknowledgeCompliance(bucket, [
    {
      rule: 'S3BucketReplicationEnabled',
      reason: `The example's ${holds}: sample objects that expire after 30 days; replicate a real application's buckets to meet its recovery objectives.`,
    },
    {
      rule: 'S3BucketVersioningEnabled',
      reason: `The example's ${holds}: sample objects that expire after 30 days, written once per upload or job; versions would only keep them longer.`,
    },
    {
      rule: 'S3DefaultEncryptionKMS',
      reason: `The example's ${holds}: encrypted with SSE-S3, as the example creates no KMS key ($1 a month each) for sample data.`,
    },
  ]);
}
