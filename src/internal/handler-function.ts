import * as path from 'path';
import {
  Duration, Lazy, aws_ec2 as ec2, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_lambda_event_sources as sources, aws_logs as logs,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { libraryLogGroup } from './log-group';
import { acknowledgeCompliance, acknowledgeNag, capitalize } from './nag';
import { privateSubnets } from './subnets';

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
  /** What the function is, for the cdk-nag reasons: "the dispatcher function of Stack/Dispatcher". */
  readonly purpose: string;
  /** Key of the log group (else CloudWatch Logs' own encryption). */
  readonly logEncryptionKey?: kms.IKey;
  /** The VPC to run in (else none). */
  readonly vpc?: ec2.IVpc;
  /** Subnets in `vpc` (else its private subnets: with egress, or isolated when it has none). */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Reserve the concurrency the function's event source mappings can use (the sum of their maxConcurrency). */
  readonly reserveConcurrency?: boolean;
}

/** Options of the SQS event source of a handler. */
export interface HandlerQueueOptions {
  readonly batchSize: number;
  readonly maxBatchingWindow?: Duration;
  readonly maxConcurrency: number;
}

/**
 * A bundled handler as every construct of this library creates it: its own
 * log group (kept after stack deletion, like every log group of the
 * library) and role, Node.js 24 on arm64 (pinned, so templates do not change
 * with the CDK version), X-Ray tracing, optionally a VPC and reserved
 * concurrency, and the cdk-nag acknowledgments every SQS-consumer function
 * shares. Construct ids `LogGroup`, `Role` and `Function` under `scope`.
 */
export class HandlerFunction {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  /** The maxConcurrency of every event source mapping, for a reservation. */
  private readonly concurrency: number[] = [];

  constructor(scope: Construct, props: HandlerFunctionProps) {
    this.logGroup = libraryLogGroup(scope, 'LogGroup', {
      retention: props.logRetention, purpose: `the log group of ${props.purpose}`, encryptionKey: props.logEncryptionKey,
    });
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
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets ?? privateSubnets(props.vpc) : undefined,
    });
    if (props.reserveConcurrency) {
      (this.function.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = Lazy.number({
        produce: () => this.concurrency.reduce((a, b) => a + b, 0),
      });
    }
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
    acknowledgeCompliance(this.function, [
      { rule: 'LambdaDLQ', reason: `${capitalize(props.purpose)} is invoked only by its SQS event source mappings, synchronously: ${props.failedRecords}.` },
      ...(props.reserveConcurrency ? [] : [{
        rule: 'LambdaConcurrency',
        reason: `${capitalize(props.purpose)} is bounded by the maxConcurrency of its SQS event source mappings. Reserving it `
          + '(reserveConcurrency) also keeps other functions from starving it, but takes that concurrency from the account\'s unreserved pool, '
          + 'which Lambda keeps at 100 or more: accounts with a low concurrency quota could not deploy it, so it is an option.',
      }]),
      ...(props.vpc ? [] : [{
        rule: 'LambdaInsideVPC',
        reason: `${capitalize(props.purpose)} calls only AWS APIs, over TLS with signed requests, and serves nothing on a network; `
          + 'it runs in a VPC when one is given (vpc), which then needs a NAT gateway or the VPC endpoints of the services it calls.',
      }]),
    ]);
    acknowledgeCompliance(this.role, [{
      rule: 'IAMNoInlinePolicy',
      reason: `The role of ${props.purpose} is used by that function alone: its inline default policy holds exactly that function's grants `
        + '(a strict one-to-one policy, the case AWS recommends inline policies for), so it cannot be attached to another principal.',
    }]);
    if (props.vpc) {
      // Lambda adds this itself only to a role it creates.
      this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
      acknowledgeNag(this.role, [{
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: `AWSLambdaVPCAccessExecutionRole lets Lambda create and delete the network interfaces of ${props.purpose} in the VPC; `
          + 'ec2:CreateNetworkInterface and its kin support no narrower resource.',
      }]);
    }
  }

  /** Consumes `queue` with partial batch responses. */
  public consume(queue: sqs.IQueue, options: HandlerQueueOptions): void {
    this.function.addEventSource(new sources.SqsEventSource(queue, {
      batchSize: options.batchSize,
      maxBatchingWindow: options.maxBatchingWindow,
      maxConcurrency: options.maxConcurrency,
      reportBatchItemFailures: true,
    }));
    this.concurrency.push(options.maxConcurrency);
  }
}
