import { ExpectedResult } from '@aws-cdk/integ-tests-alpha';
import { App } from 'aws-cdk-lib';
import { captureJobSucceeded, expectJobSucceeded, integTest, REGION, WAIT } from './common';
import { S3ToFargateStack } from '../../examples/s3-to-fargate';

/** An object uploaded under incoming/ produces results/<key>.txt and a `Job Succeeded` event. */
export function build(app = new App()): App {
  const stack = new S3ToFargateStack(app, 'IntegS3ToFargate', { env: { region: REGION }, autoDeleteObjects: true });
  const events = captureJobSucceeded(stack);
  const integ = integTest(app, 'S3ToFargate', stack);

  const key = 'incoming/integ test: 1.txt';
  integ.assertions.awsApiCall('S3', 'putObject', { Bucket: stack.inputBucket.bucketName, Key: key, Body: 'one\ntwo\nthree\n' })
    .next(integ.assertions.awsApiCall('S3', 'headObject', { Bucket: stack.resultBucket.bucketName, Key: `results/${key}.txt` })
      .expect(ExpectedResult.objectLike({ ContentType: 'text/plain' }))
      .waitForAssertions(WAIT))
    .next(expectJobSucceeded(integ, events));
  return app;
}

if (require.main === module) build().synth();
