import { Duration, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { ClaimCheck, DispatchTarget, JobDispatcher, JobField } from '../../src';
import { job, renderedConfig, resourceNamed, stackWithCluster } from '../helpers';

function objectsUnder(bucketId: string, prefix: string) {
  return { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${prefix}*`]] };
}
const statementsOf = (template: Template, prefix: string) => resourceNamed(template, 'AWS::IAM::Policy', prefix).props.PolicyDocument.Statement;

describe('the default claim check', () => {
  const { stack, cluster } = stackWithCluster();
  const d = new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster)) });
  const template = Template.fromStack(stack);
  const bucket = resourceNamed(template, 'AWS::S3::Bucket', 'ClaimCheckBucket');
  const prefix = `claim-check/${d.startedBy}/`;

  test('the stack\'s bucket (<stack>/ClaimCheckBucket): S3-managed encryption, public access blocked, owner-enforced, '
    + 'the dispatcher\'s documents expire after 30 days, kept after stack deletion', () => {
    expect(stack.node.findChild('ClaimCheckBucket')).toBe(d.claimCheckBucket);
    expect(template.findResources('AWS::S3::Bucket')[bucket.id]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(bucket.props).toEqual({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: {
        Rules: [
          { AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
          { Prefix: prefix, ExpirationInDays: 30, Status: 'Enabled' },
        ],
      },
    });
  });

  test('bucket policy denies every request that is not over TLS', () => {
    const policy = resourceNamed(template, 'AWS::S3::BucketPolicy', 'ClaimCheckBucketPolicy').props;
    expect(policy.PolicyDocument.Statement).toEqual([{
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Resource: [{ 'Fn::GetAtt': [bucket.id, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket.id, 'Arn'] }, '/*']] }],
    }]);
  });

  test('the task role may read documents under the prefix, and nothing else', () => {
    expect(statementsOf(template, 'JobTaskRoleDefaultPolicy')).toEqual([
      { Action: 's3:GetObject', Effect: 'Allow', Resource: objectsUnder(bucket.id, prefix) },
    ]);
  });

  test('the dispatcher may write documents under the prefix (asserted with its whole policy in job-dispatcher.test.ts)', () => {
    expect(statementsOf(template, 'DispatcherRoleDefaultPolicy')).toContainEqual(
      { Action: 's3:PutObject', Effect: 'Allow', Resource: objectsUnder(bucket.id, prefix) });
  });

  test('the bucket is exposed for users who read documents elsewhere', () => {
    const dispatcher = stack.node.findChild('Dispatcher') as JobDispatcher;
    expect(stack.resolve(dispatcher.claimCheckBucket!.bucketName)).toEqual({ Ref: bucket.id });
  });
});

describe('one claim-check bucket per stack', () => {
  test('two dispatchers share the bucket, each under its own prefix: each writes and its job reads only its own documents', () => {
    const { stack, cluster } = stackWithCluster();
    const a = new JobDispatcher(stack, 'A', { target: DispatchTarget.fargateJob(job(stack, cluster, {}, 'JobA')) });
    const b = new JobDispatcher(stack, 'B', { target: DispatchTarget.fargateJob(job(stack, cluster, {}, 'JobB'), { claimCheck: ClaimCheck.s3({ expiration: Duration.days(20) }) }) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('AWS::S3::BucketPolicy', 1);
    expect(a.claimCheckBucket).toBe(b.claimCheckBucket);
    const bucket = resourceNamed(template, 'AWS::S3::Bucket', 'ClaimCheckBucket');
    const [prefixA, prefixB] = [`claim-check/${a.startedBy}/`, `claim-check/${b.startedBy}/`];
    expect(prefixA).not.toEqual(prefixB);
    expect(bucket.props.LifecycleConfiguration.Rules).toEqual([
      { AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
      { Prefix: prefixA, ExpirationInDays: 30, Status: 'Enabled' },
      { Prefix: prefixB, ExpirationInDays: 20, Status: 'Enabled' },
    ]);
    expect(statementsOf(template, 'JobATaskRoleDefaultPolicy')).toEqual([{ Action: 's3:GetObject', Effect: 'Allow', Resource: objectsUnder(bucket.id, prefixA) }]);
    expect(statementsOf(template, 'JobBTaskRoleDefaultPolicy')).toEqual([{ Action: 's3:GetObject', Effect: 'Allow', Resource: objectsUnder(bucket.id, prefixB) }]);
    expect(statementsOf(template, 'ARoleDefaultPolicy')).toContainEqual({ Action: 's3:PutObject', Effect: 'Allow', Resource: objectsUnder(bucket.id, prefixA) });
    expect(statementsOf(template, 'BRoleDefaultPolicy')).toContainEqual({ Action: 's3:PutObject', Effect: 'Allow', Resource: objectsUnder(bucket.id, prefixB) });
    expect(renderedConfig(stack, 'AFunction').target.claimCheck.prefix).toBe(prefixA);
    expect(renderedConfig(stack, 'BFunction').target.claimCheck.prefix).toBe(prefixB);
  });

  test('a construct of the stack named ClaimCheckBucket that is not a bucket fails with what to do', () => {
    const { stack, cluster } = stackWithCluster();
    new Construct(stack, 'ClaimCheckBucket');
    expect(() => new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster)) }))
      .toThrow('Test has a construct with id \'ClaimCheckBucket\' that is not a bucket, but that id is where dispatchers find the stack\'s '
        + 'claim-check bucket: rename that construct, or pass ClaimCheck.s3({ bucket }) to the dispatchers');
  });
});

describe('claim check options', () => {
  test('your own KMS-encrypted bucket and prefix: no new bucket; a data key for the dispatcher, decrypt for the task', () => {
    const { stack, cluster } = stackWithCluster();
    const key = new kms.Key(stack, 'Key');
    const claims = new s3.Bucket(stack, 'Claims', { encryption: s3.BucketEncryption.KMS, encryptionKey: key });
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster), { claimCheck: ClaimCheck.s3({ bucket: claims, prefix: 'payloads/jobs/' }) }) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    const bucketId = resourceNamed(template, 'AWS::S3::Bucket', 'Claims').id;
    const keyArn = { 'Fn::GetAtt': [resourceNamed(template, 'AWS::KMS::Key', 'Key').id, 'Arn'] };
    expect(statementsOf(template, 'JobTaskRoleDefaultPolicy')).toEqual([
      { Action: 's3:GetObject', Effect: 'Allow', Resource: objectsUnder(bucketId, 'payloads/jobs/') },
      { Action: 'kms:Decrypt', Effect: 'Allow', Resource: keyArn },
    ]);
    const dispatcher = statementsOf(template, 'DispatcherRoleDefaultPolicy');
    expect(dispatcher).toContainEqual({ Action: 's3:PutObject', Effect: 'Allow', Resource: objectsUnder(bucketId, 'payloads/jobs/') });
    expect(dispatcher).toContainEqual({ Action: 'kms:GenerateDataKey', Effect: 'Allow', Resource: keyArn });
    expect(renderedConfig(stack).target.claimCheck).toEqual({
      bucket: `<{'Ref':'${bucketId}'}>`,
      endpoint: `https://<{'Fn::GetAtt':['${bucketId}','RegionalDomainName']}>`,
      prefix: 'payloads/jobs/',
    });
  });

  test('expiration sets the lifecycle rule of the created bucket', () => {
    const { stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster), { claimCheck: ClaimCheck.s3({ expiration: Duration.days(20) }) }) });
    const bucket = resourceNamed(Template.fromStack(stack), 'AWS::S3::Bucket', 'ClaimCheckBucket').props;
    const d = stack.node.findChild('Dispatcher') as JobDispatcher;
    expect(bucket.LifecycleConfiguration.Rules[1]).toEqual({ Prefix: `claim-check/${d.startedBy}/`, ExpirationInDays: 20, Status: 'Enabled' });
  });

  test('disabled: no bucket, no S3 permissions, no claim check in the config', () => {
    const { stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster), { claimCheck: ClaimCheck.disabled() }) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    const actions = statementsOf(template, 'DispatcherRoleDefaultPolicy').flatMap((st: any) => [st.Action].flat());
    expect(actions.filter((a: string) => a.startsWith('s3:'))).toEqual([]);
    expect(renderedConfig(stack).target.claimCheck).toBeUndefined();
  });

  test('JobField.payloadUri() with the claim check disabled fails synth with what to do', () => {
    const { app, stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job(stack, cluster, { environment: { PAYLOAD: JobField.payloadUri() } }), {
        claimCheck: ClaimCheck.disabled(),
      }),
    });
    expect(() => app.synth()).toThrow(/the job Test\/Job uses JobField.payloadUri\(\), but the claim check of Test\/Dispatcher is disabled: use ClaimCheck.s3\(\) \(the default\) or remove the field/);
  });

  // '!*'()' are URL-safe for S3 but encoded by SigV4's canonical path: a document under them could never be written.
  test.each(['', 'claims', '/claims/', 'a b/', "it's/", 'a(1)/', 'x*/', 'wow!/'])('prefix %j is rejected', (prefix) => {
    expect(() => ClaimCheck.s3({ prefix })).toThrow('claim check prefix must be 1-500 characters of letters, digits and _.-/ (characters that need no URL encoding, '
      + `so the path the dispatcher signs is the path S3 checks), not start with '/', and end with '/', got '${prefix}'`);
  });

  test('prefixes of the characters SigV4 and S3 both leave unencoded are accepted', () => {
    for (const prefix of ['claim-check/', 'a/b_c.d-e/', 'Jobs2026/']) expect(() => ClaimCheck.s3({ prefix })).not.toThrow();
  });

  test.each([
    [Duration.hours(12), '12 hours'],
    [Duration.days(14), '14 days'],
  ])('an expiration of %s is rejected (whole days, at least 15)', (expiration, human) => {
    expect(() => ClaimCheck.s3({ expiration })).toThrow('claim check expiration must be a whole number of days, at least 15 (a failed job can be redriven for 14 days, '
      + `and its relaunch reads the same document), got ${human}`);
  });
});

describe('maxConcurrentTasks', () => {
  test('adds ListTasks conditioned on the cluster, and sending to its own queue for carry-over', () => {
    const { stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster), { maxConcurrentTasks: 25 }) });
    const template = Template.fromStack(stack);
    const statements = statementsOf(template, 'DispatcherRoleDefaultPolicy');
    const clusterId = resourceNamed(template, 'AWS::ECS::Cluster', 'Cluster').id;
    expect(statements).toContainEqual({
      Action: 'ecs:ListTasks', Effect: 'Allow', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } },
    });
    expect(statements).toContainEqual({
      Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [resourceNamed(template, 'AWS::SQS::Queue', 'DispatcherQueue').id, 'Arn'] },
    });
    expect(renderedConfig(stack).target.maxConcurrentTasks).toBe(25);
  });

  test('without it the dispatcher cannot list tasks or send to its own queue', () => {
    const { stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster)) });
    const actions = statementsOf(Template.fromStack(stack), 'DispatcherRoleDefaultPolicy').flatMap((st: any) => [st.Action].flat());
    expect(actions).not.toContain('ecs:ListTasks');
    expect(renderedConfig(stack).target.maxConcurrentTasks).toBeUndefined();
  });

  test.each([0, 1.5, 100001])('%d is rejected', (value) => {
    const { stack, cluster } = stackWithCluster();
    expect(() => new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster), { maxConcurrentTasks: value }) }))
      .toThrow(`maxConcurrentTasks must be a whole number from 1 to 100,000, got ${value}`);
  });
});
