import { ExpectedResult, Match } from '@aws-cdk/integ-tests-alpha';
import { App } from 'aws-cdk-lib';
import { integTest, REGION, WAIT } from './common';
import { S3WorkflowStack } from '../../examples/s3-workflow';

/** A .csv uploaded under incoming/ starts one execution of the workflow, which SUCCEEDS (validate, split on Fargate, list, count each part, summarize). */
export function build(app = new App()): App {
  const stack = new S3WorkflowStack(app, 'IntegS3Workflow', { env: { region: REGION }, autoDeleteObjects: true });
  const integ = integTest(app, 'S3Workflow', stack);

  const lines = Array.from({ length: 250 }, (_, i) => `line ${i + 1}`).join('\n');
  integ.assertions.awsApiCall('S3', 'putObject', { Bucket: stack.inputBucket.bucketName, Key: 'incoming/integ.csv', Body: `${lines}\n` })
    .next(integ.assertions.awsApiCall('SFN', 'listExecutions', { stateMachineArn: stack.workflow.stateMachine.stateMachineArn, statusFilter: 'SUCCEEDED' })
      .expect(ExpectedResult.objectLike({ executions: Match.arrayWith([Match.objectLike({ status: 'SUCCEEDED' })]) }))
      .waitForAssertions(WAIT));
  return app;
}

if (require.main === module) build().synth();
