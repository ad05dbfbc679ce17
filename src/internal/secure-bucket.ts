import { aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeNag } from './nag';

/**
 * A bucket the library creates for its own data: SSE-S3, SSL only, public
 * access blocked, objects owned by the bucket owner, expiring by `lifecycleRules`.
 * `whyNoAccessLog` explains, for cdk-nag, why it has no server access log.
 */
export function secureBucket(scope: Construct, id: string, lifecycleRules: s3.LifecycleRule[], whyNoAccessLog: string): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules,
  });
  acknowledgeNag(bucket, [{ id: 'AwsSolutions-S1', reason: whyNoAccessLog }]);
  return bucket;
}
