import { Aws, RemovalPolicy, aws_iam as iam, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeCompliance, capitalize } from './nag';

/** The log groups the library created (never one a user passed in). */
const LOG_GROUPS = new WeakSet<IConstruct>();
/** Keys whose policy already lets CloudWatch Logs use them. */
const LOGS_KEYS = new WeakSet<kms.IKey>();

/** A log group the library creates. */
export interface LibraryLogGroupProps {
  readonly retention: logs.RetentionDays;
  /** What the log group holds, for the cdk-nag reason: "the container logs of Stack/Job". */
  readonly purpose: string;
  /** The customer-managed key, when one was given. */
  readonly encryptionKey?: kms.IKey;
}

/**
 * A log group as every construct of this library creates it: retention,
 * kept after stack deletion (records are kept, plumbing is deleted: see the
 * README's removal table), and encrypted with `encryptionKey` when one is
 * given (its policy then lets CloudWatch Logs use it). Without a key it is
 * encrypted by CloudWatch Logs itself, and the cdk-nag finding that asks
 * for a customer-managed key is acknowledged at synth, saying what it holds
 * — unless `ComplianceDefaults` gave it a key in the meantime.
 */
export function libraryLogGroup(scope: Construct, id: string, props: LibraryLogGroupProps): logs.LogGroup {
  const logGroup = new logs.LogGroup(scope, id, {
    retention: props.retention,
    removalPolicy: RemovalPolicy.RETAIN,
    encryptionKey: props.encryptionKey,
  });
  if (props.encryptionKey) allowLogsToUse(props.encryptionKey);
  LOG_GROUPS.add(logGroup);
  logGroup.node.addValidation({
    validate: () => {
      if (!(logGroup.node.defaultChild as logs.CfnLogGroup).kmsKeyId) {
        acknowledgeCompliance(logGroup, [{
          rule: 'CloudWatchLogGroupEncrypted',
          reason: `${capitalize(props.purpose)}: encrypted at rest by CloudWatch Logs' own service-side encryption. A customer-managed key `
            + '(logEncryptionKey, or ComplianceDefaults for every log group of a stack or app) is used when given; the library creates '
            + 'none by itself, as each key costs $1 a month and needs a key policy for CloudWatch Logs.',
        }]);
      }
      return [];
    },
  });
  return logGroup;
}

/** Whether `construct` is a log group the library created. */
export function isLibraryLogGroup(construct: IConstruct): construct is logs.LogGroup {
  return LOG_GROUPS.has(construct);
}

/** Encrypts a library log group created without a key with `key` (ComplianceDefaults). */
export function encryptLogGroup(logGroup: logs.LogGroup, key: kms.IKey): boolean {
  const cfn = logGroup.node.defaultChild as logs.CfnLogGroup;
  if (cfn.kmsKeyId) return false;
  cfn.kmsKeyId = key.keyArn;
  allowLogsToUse(key);
  return true;
}

/**
 * Lets CloudWatch Logs of the key's region use `key` for the log groups of
 * its account (the statement of the CloudWatch Logs guide). An imported key's
 * policy cannot be changed: it must allow this already.
 */
export function allowLogsToUse(key: kms.IKey): void {
  if (LOGS_KEYS.has(key)) return;
  LOGS_KEYS.add(key);
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
  }), true);
}
