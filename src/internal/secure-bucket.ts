import { RemovalPolicy, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeCompliance, acknowledgeNag } from './nag';

/** Why a library bucket has no server access log, replication, versioning or KMS key: the cdk-nag reasons, naming what it holds. */
export interface SecureBucketReasons {
  readonly accessLog: string;
  readonly replication: string;
  readonly versioning: string;
  readonly kms: string;
}

/**
 * A bucket the library creates for its own data: SSE-S3, SSL only, public
 * access blocked, objects owned by the bucket owner, expiring by
 * `lifecycleRules`, kept after stack deletion (CloudFormation cannot delete
 * a bucket that holds objects; its objects still expire).
 */
export function secureBucket(scope: Construct, id: string, lifecycleRules: s3.LifecycleRule[], reasons: SecureBucketReasons): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledgeNag(bucket, [{ id: 'AwsSolutions-S1', reason: reasons.accessLog }]);
  acknowledgeCompliance(bucket, [
    { rule: 'S3BucketLoggingEnabled', reason: reasons.accessLog },
    { rule: 'S3BucketReplicationEnabled', reason: reasons.replication },
    { rule: 'S3BucketVersioningEnabled', reason: reasons.versioning },
    { rule: 'S3DefaultEncryptionKMS', reason: reasons.kms },
  ]);
  return bucket;
}
