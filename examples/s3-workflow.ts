import { App, CfnOutput, Stack, Validations, aws_ecs as ecs, aws_iam as iam, aws_kms as kms, aws_s3 as s3, aws_sns as sns } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeExampleBucket } from './compliance';
import { exampleFunction } from './example-function';
import { dispatcherOutputs } from './outputs';
import { bucketProps, S3ExampleProps } from './s3-to-fargate';
import { DispatchTarget, FargateJob, JobDispatcher, JobWorkflow, S3Source, WorkflowStep } from '../src';

/**
 * An upload starts a workflow: a Lambda validates the object → a Fargate job
 * splits it into parts of 100 lines (`.sync`) → a Lambda lists the parts → a
 * Map counts the lines of each part with a Lambda → a Lambda publishes the
 * summary to an SNS topic. Large data stays in S3; the state carries keys.
 */
export class S3WorkflowStack extends Stack {
  public readonly workflow: JobWorkflow;
  public readonly starter: JobDispatcher;
  public readonly inputBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: S3ExampleProps = {}) {
    super(scope, id, props);
    const exampleBucketProps = () => bucketProps(props.autoDeleteObjects);

    const accessLogs = new s3.Bucket(this, 'AccessLogs', exampleBucketProps());
    const input = this.inputBucket = new s3.Bucket(this, 'Input', { ...exampleBucketProps(), serverAccessLogsBucket: accessLogs, serverAccessLogsPrefix: 'input/' });
    const parts = new s3.Bucket(this, 'Parts', { ...exampleBucketProps(), serverAccessLogsBucket: accessLogs, serverAccessLogsPrefix: 'parts/' });
    acknowledgeExampleBucket(accessLogs, 'server access log bucket (of the input and parts buckets)');
    acknowledgeExampleBucket(input, 'input bucket (uploads under incoming/ start executions)');
    acknowledgeExampleBucket(parts, 'parts bucket (the Split job writes parts/<job id>/)');
    const summaryKey = new kms.Key(this, 'SummaryKey', { enableKeyRotation: true, description: 'Encrypts the summary topic' });
    const summaries = new sns.Topic(this, 'Summaries', { masterKey: summaryKey, enforceSSL: true });

    const split = new FargateJob(this, 'SplitJob', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/aws-cli/aws-cli:2.15.0'),
      entryPoint: ['/bin/sh', '-c'],
      command: [
        'set -eu; mkdir -p /tmp/parts; aws s3 cp "s3://$INPUT_BUCKET/$INPUT_KEY" /tmp/input; '
        + 'split -l 100 /tmp/input /tmp/parts/part-; aws s3 cp --recursive /tmp/parts "s3://$PARTS_BUCKET/$OUTPUT_PREFIX"',
      ],
      environment: { PARTS_BUCKET: parts.bucketName },
    });
    input.grantRead(split.taskRole);
    parts.grantPut(split.taskRole, 'parts/*');

    const validate = routeFunction(this, 'Validate', VALIDATE, {});
    const list = routeFunction(this, 'ListParts', LIST, { PARTS_BUCKET: parts.bucketName });
    parts.grantRead(list, 'parts/*');
    const count = routeFunction(this, 'CountLines', COUNT, { PARTS_BUCKET: parts.bucketName });
    parts.grantRead(count, 'parts/*');
    const summarize = routeFunction(this, 'Summarize', SUMMARIZE, { TOPIC_ARN: summaries.topicArn });
    // Publishing to a KMS-encrypted topic needs a data key: exactly these actions.
    summarize.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [summaries.topicArn] }));
    summaryKey.grant(summarize, 'kms:GenerateDataKey', 'kms:Decrypt');

    this.workflow = new JobWorkflow(this, 'Workflow', {
      steps: [
        WorkflowStep.invoke(validate, { name: 'Validate' }),
        WorkflowStep.job(split, {
          name: 'Split',
          environment: {
            INPUT_BUCKET: '$.steps.Validate.result.bucket',
            INPUT_KEY: '$.steps.Validate.result.key',
            OUTPUT_PREFIX: '$.steps.Validate.result.outputPrefix',
          },
        }),
        WorkflowStep.invoke(list, { name: 'List parts' }),
        WorkflowStep.forEach('$.steps.List_parts.result.items', [WorkflowStep.invoke(count, { name: 'Count lines' })], { name: 'Each part', maxConcurrency: 10 }),
        WorkflowStep.invoke(summarize, { name: 'Summarize' }),
      ],
    });
    // One execution per uploaded object, named after the job id.
    this.starter = new JobDispatcher(this, 'Starter', {
      target: DispatchTarget.workflow(this.workflow),
      sources: [new S3Source(input, { prefix: 'incoming/' })],
    });

    new CfnOutput(this, 'InputBucketName', { value: input.bucketName, description: 'Upload .csv or .txt objects under incoming/ to start executions' });
    new CfnOutput(this, 'PartsBucketName', { value: parts.bucketName, description: 'The Split job writes parts/<job id>/ here' });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn, description: 'The workflow: one execution per uploaded object' });
    new CfnOutput(this, 'SummaryTopicArn', { value: summaries.topicArn, description: 'Subscribe to get each execution\'s summary' });
    dispatcherOutputs(this, this.starter);

    const why = 'The job and functions read whichever object was uploaded, and the parts the job writes under parts/: object keys are unknown at deploy time.';
    for (const principal of [split.taskRole, list.role!, count.role!]) {
      Validations.of(principal).acknowledge(
        ...['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:Abort*',
          `Resource::<${this.getLogicalId(input.node.defaultChild as any)}.Arn>/*`,
          `Resource::<${this.getLogicalId(parts.node.defaultChild as any)}.Arn>/parts/*`].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason: why })),
      );
    }
    Validations.of(split.taskDefinition).acknowledge({ id: 'AwsSolutions-ECS2', reason: 'PARTS_BUCKET is a bucket name, not a secret; per-execution values come as overrides.' });
  }
}

const VALIDATE = `exports.handler = async (state) => {
  const { fields, id } = state.job;
  const key = fields['s3.key'];
  if (!/\\.(csv|txt)$/.test(key)) {
    const e = new Error('only .csv and .txt files are processed, got ' + key);
    e.name = 'InvalidInput';
    throw e;
  }
  return { bucket: fields['s3.bucket'], key, outputPrefix: 'parts/' + id + '/' };
};`;

const LIST = `const { S3Client, ListObjectsV2Command } = require('@aws-sdk/client-s3');
const s3 = new S3Client({});
exports.handler = async (state) => {
  const prefix = state.steps.Validate.result.outputPrefix;
  const res = await s3.send(new ListObjectsV2Command({ Bucket: process.env.PARTS_BUCKET, Prefix: prefix, MaxKeys: 1000 }));
  return { items: (res.Contents || []).map((o) => o.Key) };
};`;

const COUNT = `const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3');
const s3 = new S3Client({});
exports.handler = async (key) => {
  const res = await s3.send(new GetObjectCommand({ Bucket: process.env.PARTS_BUCKET, Key: key }));
  const text = await res.Body.transformToString();
  return { key, lines: text.split('\\n').filter((l) => l.length > 0).length };
};`;

const SUMMARIZE = `const { SNSClient, PublishCommand } = require('@aws-sdk/client-sns');
const sns = new SNSClient({});
exports.handler = async (state) => {
  const parts = state.steps.Each_part.map((p) => p.result);
  const summary = { jobId: state.job.id, object: state.steps.Validate.result.key, parts: parts.length, lines: parts.reduce((n, p) => n + p.lines, 0) };
  await sns.send(new PublishCommand({ TopicArn: process.env.TOPIC_ARN, Message: JSON.stringify(summary) }));
  return summary;
};`;

function routeFunction(scope: Construct, id: string, code: string, environment: Record<string, string>) {
  return exampleFunction(scope, id, code, { environment, invokedSynchronouslyBy: 'the workflow (a failed invocation fails the step, which is retried and caught)' });
}

if (require.main === module) {
  new S3WorkflowStack(new App(), 'S3WorkflowExample');
}
