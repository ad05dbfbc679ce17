import { Duration, RemovalPolicy, Validations, aws_iam as iam, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeCompliance } from './compliance';

/** Options of an example's inline function. */
export interface ExampleFunctionOptions {
  readonly environment?: Record<string, string>;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** Why the function needs no dead-letter queue (who invokes it, synchronously). */
  readonly invokedSynchronouslyBy: string;
  /** The reason for `Serverless-LambdaDLQ`, when the function is not invoked synchronously. @default - invoked synchronously by `invokedSynchronouslyBy` */
  readonly noDeadLetterQueueReason?: string;
  /** @default 256 */
  readonly memorySize?: number;
}

/**
 * An inline Node.js 24 function as the examples use them: its own role (its
 * log group and X-Ray only), a log group with retention, tracing, and the
 * cdk-nag acknowledgments such a function needs, with their reasons.
 */
export function exampleFunction(scope: Construct, id: string, code: string, options: ExampleFunctionOptions): lambda.Function {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
  const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  logGroup.grantWrite(role);
  const fn = new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromInline(code),
    memorySize: options.memorySize ?? 256,
    timeout: options.timeout ?? Duration.seconds(30),
    tracing: lambda.Tracing.ACTIVE,
    environment: options.environment,
    logGroup,
    role,
  });
  Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.' });
  const noDeadLetterQueue = options.noDeadLetterQueueReason
    ?? `Invoked synchronously by ${options.invokedSynchronouslyBy} only: a failed invocation is answered to the caller, there is no event to keep.`;
  Validations.of(fn).acknowledge({ id: 'Serverless-LambdaDLQ', reason: noDeadLetterQueue });
  acknowledgeCompliance(fn, [
    { rule: 'LambdaDLQ', reason: `The example function ${id}: ${noDeadLetterQueue}` },
    {
      rule: 'LambdaConcurrency',
      reason: `The example function ${id} (invoked by ${options.invokedSynchronouslyBy}) reserves no concurrency, so the example deploys in `
        + 'accounts whose concurrency quota leaves no room for a reservation.',
    },
    {
      rule: 'LambdaInsideVPC',
      reason: `The example function ${id} reads and writes S3 objects or answers requests: it calls only AWS APIs and needs no network of `
        + 'the VPC, which has no S3 endpoint for it.',
    },
  ]);
  acknowledgeCompliance(role, [{
    rule: 'IAMNoInlinePolicy',
    reason: `The role of the example function ${id} is used by it alone: its inline default policy holds exactly its grants.`,
  }]);
  acknowledgeCompliance(logGroup, [{
    rule: 'CloudWatchLogGroupEncrypted',
    reason: `The log group of the example function ${id}: encrypted by CloudWatch Logs' service-side encryption; the example creates no KMS key.`,
  }]);
  return fn;
}
