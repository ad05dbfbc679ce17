import * as path from 'path';
import {
  Duration, aws_iam as iam, aws_lambda as lambda, aws_lambda_event_sources as sources, aws_logs as logs, aws_sqs as sqs, RemovalPolicy,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeNag } from './nag';

/** A handler this library bundles at build time, under `assets/`. */
export interface HandlerFunctionProps {
  /** The bundle: `<dir>/<name>.lambda` under `assets/` (for example `dispatch/dispatcher.lambda`). */
  readonly asset: string;
  readonly description: string;
  /** Description of the function's role. */
  readonly roleDescription: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  readonly environment: Record<string, string>;
  /** What the SQS event source mapping's failed records become, for the cdk-nag reasons. */
  readonly failedRecords: string;
}

/** Options of the SQS event source of a handler. */
export interface HandlerQueueOptions {
  readonly batchSize: number;
  readonly maxBatchingWindow?: Duration;
  readonly maxConcurrency: number;
}

/**
 * A bundled handler as every construct of this library creates it: its own
 * log group (destroyed with the stack) and role, Node.js 24 on arm64 (pinned,
 * so templates do not change with the CDK version), X-Ray tracing, and the
 * cdk-nag acknowledgments every SQS-consumer function shares. Construct ids
 * `LogGroup`, `Role` and `Function` under `scope`.
 */
export class HandlerFunction {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, props: HandlerFunctionProps) {
    this.logGroup = new logs.LogGroup(scope, 'LogGroup', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(scope, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.roleDescription,
    });
    this.function = new lambda.Function(scope, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', ...props.asset.split('/'))),
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      description: props.description,
      environment: props.environment,
    });
    this.logGroup.grantWrite(this.role);
    acknowledgeNag(this.function, [
      {
        id: 'Serverless-LambdaDLQ',
        reason: `Invoked only by its SQS event source mapping, synchronously: ${props.failedRecords}.`,
      },
      { id: 'Serverless-LambdaAsyncFailureDestination', reason: 'Never invoked asynchronously: only its SQS event source mapping invokes it.' },
      {
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason: `SQS event source mappings take no on-failure destination: ${props.failedRecords}.`,
      },
    ]);
  }

  /** Consumes `queue` with partial batch responses. */
  public consume(queue: sqs.IQueue, options: HandlerQueueOptions): void {
    this.function.addEventSource(new sources.SqsEventSource(queue, {
      batchSize: options.batchSize,
      maxBatchingWindow: options.maxBatchingWindow,
      maxConcurrency: options.maxConcurrency,
      reportBatchItemFailures: true,
    }));
  }
}
