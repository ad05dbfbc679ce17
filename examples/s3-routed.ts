import {
  Aspects, CfnOutput, Duration, Size, Stack, Validations, aws_ecs as ecs, aws_kms as kms, aws_iam as iam, aws_s3 as s3, aws_sns as sns,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeExampleBucket } from './compliance';
import { exampleFunction } from './example-function';
import { dispatcherOutputs } from './outputs';
import { bucketProps, S3ExampleProps } from './s3-to-fargate';
import { ComplianceDefaults, ComputeRoute, ComputeTarget, DispatchTarget, FargateJob, JobDashboard, JobDispatcher, JobField, S3Source } from '../src';

/**
 * The worker: counts the bytes and lines of the uploaded object and writes
 * `results/<key>.txt`, like the Fargate job. Above 64 MiB it declares its
 * own limit (an error named SpilloverRequested): the route relaunches the
 * job on Fargate. A timeout or running out of memory spills over the same way.
 */
const WORKER = `
const { S3Client, GetObjectCommand, PutObjectCommand } = require('@aws-sdk/client-s3');
const s3 = new S3Client({});
const LIMIT = 64 * 1024 * 1024;
exports.handler = async (event) => {
  const { job, hc } = event;
  const size = Number(job.fields['s3.size'] || 0);
  if (size > LIMIT) {
    const e = new Error('object of ' + size + ' bytes is over the worker limit of ' + LIMIT);
    e.name = 'SpilloverRequested';
    throw e;
  }
  const object = await s3.send(new GetObjectCommand({ Bucket: job.fields['s3.bucket'], Key: job.fields['s3.key'] }));
  const body = Buffer.from(await object.Body.transformToByteArray());
  const lines = body.toString('utf8').split('\\n').length - 1;
  const result = 'bytes=' + body.length + ' lines=' + lines + ' job=' + hc.jobId + ' compute=lambda\\n';
  await s3.send(new PutObjectCommand({ Bucket: process.env.RESULT_BUCKET, Key: 'results/' + job.fields['s3.key'] + '.txt', Body: result }));
  return { jobId: hc.jobId, bytes: body.length, lines };
};
`;

/**
 * "Lambda for the small, Fargate for the large": uploads under `incoming/`
 * smaller than 100 MiB run on a Lambda worker (arm64, 1 GiB, 2 minutes);
 * larger ones run as a Fargate task. A Lambda run that times out, runs out
 * of memory or declares the object too large spills over to the same
 * Fargate job, once. Outcomes of both are in the job ledger.
 */
export class S3RoutedStack extends Stack {
  public readonly inputBucket: s3.Bucket;
  public readonly resultBucket: s3.Bucket;
  public readonly dispatcher: JobDispatcher;

  constructor(scope: Construct, id: string, props: S3ExampleProps = {}) {
    super(scope, id, props);
    const accessLogs = new s3.Bucket(this, 'AccessLogs', bucketProps(props.autoDeleteObjects));
    this.inputBucket = new s3.Bucket(this, 'Input', { ...bucketProps(props.autoDeleteObjects), serverAccessLogsBucket: accessLogs, serverAccessLogsPrefix: 'input/' });
    this.resultBucket = new s3.Bucket(this, 'Results', { ...bucketProps(props.autoDeleteObjects), serverAccessLogsBucket: accessLogs, serverAccessLogsPrefix: 'results/' });
    acknowledgeExampleBucket(accessLogs, 'server access log bucket (of the input and results buckets)');
    acknowledgeExampleBucket(this.inputBucket, 'input bucket (uploads under incoming/ start jobs)');
    acknowledgeExampleBucket(this.resultBucket, 'results bucket (each job writes results/<key>.txt)');

    const worker = exampleFunction(this, 'Worker', WORKER, {
      timeout: Duration.minutes(2),
      memorySize: 1024,
      environment: { RESULT_BUCKET: this.resultBucket.bucketName },
      invokedSynchronouslyBy: 'the route',
      noDeadLetterQueueReason: 'Invoked asynchronously by the route only, with no retries: its on-failure destination (the dispatch queue) '
        + 'records every failed run, spills it over to Fargate or dead-letters it with the reason.',
    });
    this.inputBucket.grantRead(worker, 'incoming/*');
    this.resultBucket.grantPut(worker, 'results/*');

    const job = new FargateJob(this, 'CountJob', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/aws-cli/aws-cli:2.15.0'),
      entryPoint: ['/bin/sh', '-c'],
      command: [
        'set -eu; aws s3 cp "$INPUT_URI" /tmp/input; '
        + 'printf "bytes=%s lines=%s job=%s compute=fargate\\n" "$(wc -c < /tmp/input)" "$(wc -l < /tmp/input)" "$JOB_ID" > /tmp/result.txt; '
        + 'aws s3 cp /tmp/result.txt "s3://$RESULT_BUCKET/results/$INPUT_KEY.txt"',
      ],
      environment: {
        INPUT_URI: JobField.s3Uri(), INPUT_KEY: JobField.s3Key(), JOB_ID: JobField.jobId(), RESULT_BUCKET: this.resultBucket.bucketName,
      },
      cpu: 1024,
      memoryLimitMiB: 2048,
    });
    this.inputBucket.grantRead(job.taskRole, 'incoming/*');
    this.resultBucket.grantPut(job.taskRole, 'results/*');

    const alarmKey = new kms.Key(this, 'AlarmKey', { enableKeyRotation: true, description: 'Encrypts the routed example alarm topic' });
    alarmKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const alarmTopic = new sns.Topic(this, 'AlarmTopic', { masterKey: alarmKey, enforceSSL: true });
    // One topic for every alarm the library creates in this stack (a construct's own alarmTopic would win).
    Aspects.of(this).add(new ComplianceDefaults({ alarmTopic }));

    this.dispatcher = new JobDispatcher(this, 'Dispatcher', {
      target: DispatchTarget.route({
        rules: [ComputeRoute.whenSizeBelow(Size.mebibytes(100), ComputeTarget.lambdaFunction(worker))],
        otherwise: ComputeTarget.fargate(job),
      }),
      sources: [new S3Source(this.inputBucket, { prefix: 'incoming/' })],
    });
    const dashboard = new JobDashboard(this, 'Dashboard', { dispatcher: this.dispatcher });

    new CfnOutput(this, 'InputBucketName', { value: this.inputBucket.bucketName, description: 'Upload objects under incoming/ to start jobs' });
    new CfnOutput(this, 'ResultBucketName', { value: this.resultBucket.bucketName, description: 'Each job writes results/<key>.txt here (compute=lambda or fargate)' });
    new CfnOutput(this, 'WorkerFunctionName', { value: worker.functionName, description: 'The Lambda worker of small objects' });
    new CfnOutput(this, 'LedgerTableName', { value: this.dispatcher.ledger!.table.tableName, description: 'The job ledger: where each job ran and how it ended' });
    new CfnOutput(this, 'DashboardName', { value: dashboard.dashboard.dashboardName, description: 'The CloudWatch dashboard of the dispatcher and its jobs' });
    dispatcherOutputs(this, this.dispatcher);

    const why = 'The worker and the job read whichever object was uploaded under incoming/ and write its result under results/: keys are unknown at deploy time.';
    for (const [role, path] of [[worker.role!, 'Worker'], [job.taskRole, 'CountJob']] as const) {
      Validations.of(role).acknowledge(
        ...['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:Abort*',
          `Resource::<${this.getLogicalId(this.inputBucket.node.defaultChild as any)}.Arn>/incoming/*`,
          `Resource::<${this.getLogicalId(this.resultBucket.node.defaultChild as any)}.Arn>/results/*`].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason: `${why} (${path})` })),
      );
    }
    Validations.of(job.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'RESULT_BUCKET is a bucket name, not a secret; the per-job values are passed as overrides at launch.',
    });
  }
}
