import { App } from 'aws-cdk-lib';
import { EventBridgeToFargateStack } from './eventbridge-to-fargate';
import { HybridServiceStack } from './hybrid-service';
import { complianceFindings, nagFindings } from './nag';
import { S3RoutedStack } from './s3-routed';
import { S3ToFargateStack } from './s3-to-fargate';
import { S3WorkflowStack } from './s3-workflow';
import { SqsToFargateStack } from './sqs-to-fargate';

/** Every example stack, in one app. */
export function buildExamplesApp(app: App = new App()): App {
  new S3ToFargateStack(app, 'S3ToFargateExample');
  new SqsToFargateStack(app, 'SqsToFargateExample');
  new EventBridgeToFargateStack(app, 'EventBridgeToFargateExample');
  new S3WorkflowStack(app, 'S3WorkflowExample');
  new S3RoutedStack(app, 'S3RoutedExample');
  // Access logging needs the region (its log-delivery principal differs by
  // region); the account stays unresolved, so synth needs no credentials.
  new HybridServiceStack(app, 'HybridServiceExample', { env: { region: app.node.tryGetContext('region') ?? 'eu-west-1' } });
  return app;
}

// `npx cdk synth` at the repository root runs this file. cdk-nag (AwsSolutions,
// Serverless, NIST 800-53 R5, HIPAA Security) runs over every example: an
// unacknowledged finding fails the synth.
if (require.main === module) {
  const app = buildExamplesApp();
  app.synth();
  const findings = [...nagFindings(app), ...complianceFindings(app)];
  for (const f of findings) {
    console.error(`[cdk-nag] ${f.rule} at ${f.path}: ${f.description}`);
  }
  if (findings.length > 0) {
    console.error(`${findings.length} unacknowledged cdk-nag finding(s): fix them or acknowledge each with a specific reason`);
    process.exit(1);
  }
}
