import { Duration, RemovalPolicy, aws_iam as iam } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DispatchTarget, JobDispatcher, JobLedger } from '../../src';
import { job, renderedConfig, resourceNamed, stackWithCluster } from '../helpers';

describe('JobLedger', () => {
  test('defaults: on-demand, encrypted, point-in-time recovery, TTL on expiresAt, keyed by pk, retained', () => {
    const { stack } = stackWithCluster();
    const ledger = new JobLedger(stack, 'Ledger');
    const template = Template.fromStack(stack);
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0] as any;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toEqual({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(ledger.timeToLive.toDays()).toBe(30);
  });

  test('grantReadJobs: GetItem and BatchGetItem on this table only; grantRecordJobs: GetItem and UpdateItem', () => {
    const { stack } = stackWithCluster();
    const ledger = new JobLedger(stack, 'Ledger', { removalPolicy: RemovalPolicy.DESTROY });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
    ledger.grantReadJobs(reader);
    ledger.grantRecordJobs(writer);
    const template = Template.fromStack(stack);
    const tableArn = { 'Fn::GetAtt': [resourceNamed(template, 'AWS::DynamoDB::Table', 'Ledger').id, 'Arn'] };
    expect(resourceNamed(template, 'AWS::IAM::Policy', 'ReaderDefaultPolicy').props.PolicyDocument.Statement)
      .toEqual([{ Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], Effect: 'Allow', Resource: tableArn }]);
    expect(resourceNamed(template, 'AWS::IAM::Policy', 'WriterDefaultPolicy').props.PolicyDocument.Statement)
      .toEqual([{ Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: tableArn }]);
    expect(Object.values(template.findResources('AWS::DynamoDB::Table'))[0]).toMatchObject({ DeletionPolicy: 'Delete' });
  });

  test('a time to live under 15 days fails synth with what to change', () => {
    const { stack } = stackWithCluster();
    expect(() => new JobLedger(stack, 'Ledger', { timeToLive: Duration.days(7) })).toThrow(
      'Test/Ledger: timeToLive must be at least 15 days (a job can come back from a dead-letter or failed-jobs queue for 14 days), got 7 days');
  });

  test('one ledger shared by two dispatchers: one table, both dispatchers and trackers record in it, each under its own keys', () => {
    const { stack, cluster } = stackWithCluster();
    const ledger = new JobLedger(stack, 'Shared', { timeToLive: Duration.days(20) });
    const a = new JobDispatcher(stack, 'A', { target: DispatchTarget.fargateJob(job(stack, cluster, {}, 'JobA'), { ledger }) });
    const b = new JobDispatcher(stack, 'B', { target: DispatchTarget.fargateJob(job(stack, cluster, {}, 'JobB'), { ledger }) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(a.ledger).toBe(ledger);
    expect(b.ledger).toBe(ledger);
    const table = resourceNamed(template, 'AWS::DynamoDB::Table', 'Shared').id;
    for (const prefix of ['ARoleDefaultPolicy', 'BRoleDefaultPolicy', 'ATrackerRoleDefaultPolicy', 'BTrackerRoleDefaultPolicy']) {
      expect(resourceNamed(template, 'AWS::IAM::Policy', prefix).props.PolicyDocument.Statement)
        .toContainEqual({ Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [table, 'Arn'] } });
    }
    for (const id of ['AFunction', 'BFunction']) {
      expect(renderedConfig(stack, id).target.ledger).toEqual({ table: `<{'Ref':'${table}'}>`, ttlSeconds: 20 * 86400 });
    }
    // keys are <startedBy>#<job id>: the two dispatchers never share an item
    expect(a.startedBy).not.toBe(b.startedBy);
  });

  test('a Fargate target given no ledger gets its own, under the dispatcher', () => {
    const { stack, cluster } = stackWithCluster();
    const d = new JobDispatcher(stack, 'D', { target: DispatchTarget.fargateJob(job(stack, cluster)) });
    expect(d.ledger).toBeInstanceOf(JobLedger);
    expect(d.ledger!.node.path).toBe('Test/D/Ledger');
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', 1);
  });
});
