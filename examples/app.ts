import { App } from 'aws-cdk-lib';
import { nagFindings } from './nag';
import { S3ToFargateStack } from './s3-to-fargate';

/** Every example stack, in one app. */
export function buildExamplesApp(app: App = new App()): App {
  new S3ToFargateStack(app, 'S3ToFargateExample');
  return app;
}

// `npx cdk synth` at the repository root runs this file. cdk-nag runs over
// every example: an unacknowledged finding fails the synth.
if (require.main === module) {
  const app = buildExamplesApp();
  app.synth();
  const findings = nagFindings(app);
  for (const f of findings) {
    console.error(`[cdk-nag] ${f.rule} at ${f.path}: ${f.description}`);
  }
  if (findings.length > 0) {
    console.error(`${findings.length} unacknowledged cdk-nag finding(s): fix them or acknowledge each with a specific reason`);
    process.exit(1);
  }
}
