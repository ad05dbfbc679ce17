import {
  App, CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Validations,
  aws_ecs as ecs, aws_iam as iam, aws_kms as kms, aws_s3 as s3, aws_sns as sns,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeExampleBucket } from './compliance';
import { dispatcherOutputs } from './outputs';
import { FargateJob, JobCapacity, JobDashboard, DispatchTarget, JobDispatcher, JobField, JobTracking, S3Source } from '../src';

/**
 * An upload to the input bucket starts a Fargate task that reads the object,
 * counts its bytes and lines, and writes the result next to it in the results
 * bucket (`results/<key>.txt`). Public image: no Docker build needed.
 *
 * Tasks run on Fargate Spot and fall back to on-demand when Spot has no
 * capacity; at most 50 run at once (the rest wait in the queue); input that
 * does not fit the RunTask overrides goes through the claim-check bucket.
 * Every job is tracked to its outcome: Spot interruptions and start failures
 * are retried twice, failed jobs wait in a queue for redrive; alarms notify
 * the topic; a dashboard shows it all.
 */
/** Properties of the S3 examples. */
export interface S3ExampleProps extends StackProps {
  /**
   * Empty the example's buckets when the stack is deleted (a custom
   * resource), so `cdk destroy` and the integration tests leave nothing.
   * @default false - buckets with objects make the stack deletion fail
   */
  readonly autoDeleteObjects?: boolean;
}

export class S3ToFargateStack extends Stack {
  public readonly inputBucket: s3.Bucket;
  public readonly resultBucket: s3.Bucket;
  public readonly job: FargateJob;
  public readonly dispatcher: JobDispatcher;
  public readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: S3ExampleProps = {}) {
    super(scope, id, props);
    const exampleBucketProps = () => bucketProps(props.autoDeleteObjects);

    const accessLogs = new s3.Bucket(this, 'AccessLogs', exampleBucketProps());
    this.inputBucket = new s3.Bucket(this, 'Input', {
      ...exampleBucketProps(),
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'input/',
    });
    this.resultBucket = new s3.Bucket(this, 'Results', {
      ...exampleBucketProps(),
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'results/',
    });
    acknowledgeExampleBucket(accessLogs, 'server access log bucket (of the input and results buckets)');
    acknowledgeExampleBucket(this.inputBucket, 'input bucket (uploads under incoming/ start jobs)');
    acknowledgeExampleBucket(this.resultBucket, 'results bucket (each job writes results/<key>.txt)');

    this.job = new FargateJob(this, 'CountJob', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/aws-cli/aws-cli:2.15.0'),
      entryPoint: ['/bin/sh', '-c'],
      command: [
        'set -eu; aws s3 cp "$INPUT_URI" /tmp/input; '
        + 'printf "bytes=%s lines=%s job=%s\\n" "$(wc -c < /tmp/input)" "$(wc -l < /tmp/input)" "$JOB_ID" > /tmp/result.txt; '
        + 'aws s3 cp /tmp/result.txt "s3://$RESULT_BUCKET/results/$INPUT_KEY.txt"',
      ],
      environment: {
        INPUT_URI: JobField.s3Uri(),
        INPUT_KEY: JobField.s3Key(),
        JOB_ID: JobField.jobId(),
        RESULT_BUCKET: this.resultBucket.bucketName,
      },
      cpu: 256,
      memoryLimitMiB: 512,
      capacity: JobCapacity.spot({ fallbackToOnDemand: true }),
    });
    this.inputBucket.grantRead(this.job.taskRole);
    this.resultBucket.grantPut(this.job.taskRole, 'results/*');

    // Alarm notifications, encrypted with a key CloudWatch may use.
    const alarmKey = new kms.Key(this, 'AlarmKey', { enableKeyRotation: true, description: 'Encrypts the job alarm topic' });
    alarmKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { masterKey: alarmKey, enforceSSL: true });

    this.dispatcher = new JobDispatcher(this, 'Dispatcher', {
      target: DispatchTarget.fargateJob(this.job, { maxConcurrentTasks: 50, tracking: JobTracking.enabled({ retryAttempts: 2 }) }),
      sources: [new S3Source(this.inputBucket, { prefix: 'incoming/' })],
      timeout: Duration.minutes(1),
      alarmTopic: this.alarmTopic,
    });
    const dashboard = new JobDashboard(this, 'Dashboard', { dispatcher: this.dispatcher });

    new CfnOutput(this, 'InputBucketName', { value: this.inputBucket.bucketName, description: 'Upload objects under incoming/ to start jobs' });
    new CfnOutput(this, 'ResultBucketName', { value: this.resultBucket.bucketName, description: 'Each job writes results/<key>.txt here' });
    new CfnOutput(this, 'JobLogGroupName', { value: this.job.logGroup.logGroupName, description: 'The job containers\' logs' });
    new CfnOutput(this, 'DashboardName', { value: dashboard.dashboard.dashboardName, description: 'The CloudWatch dashboard of the dispatcher and its jobs' });
    dispatcherOutputs(this, this.dispatcher);

    const why = 'The job reads whichever object was uploaded to the input bucket and writes its result under results/ of the result bucket: object keys are unknown at deploy time.';
    Validations.of(this.job.taskRole).acknowledge(
      ...['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:Abort*',
        `Resource::<${this.getLogicalId(this.inputBucket.node.defaultChild as any)}.Arn>/*`,
        `Resource::<${this.getLogicalId(this.resultBucket.node.defaultChild as any)}.Arn>/results/*`].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason: why })),
    );
    Validations.of(this.job.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'RESULT_BUCKET is a bucket name, not a secret; the per-job values are passed as overrides at launch.',
    });
  }
}

/** The bucket settings of the example (also used by the synth benchmark's baseline stack). */
export function secureBucketProps(): s3.BucketProps {
  return bucketProps(false);
}

/** The bucket settings of the S3 examples. */
export function bucketProps(autoDeleteObjects = false): s3.BucketProps {
  return {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: false,
    removalPolicy: RemovalPolicy.DESTROY,
    autoDeleteObjects,
    lifecycleRules: [{ expiration: Duration.days(30) }],
  };
}

if (require.main === module) {
  new S3ToFargateStack(new App(), 'S3ToFargateExample');
}
