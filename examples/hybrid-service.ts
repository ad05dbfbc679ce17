import { App, Duration, Stack, StackProps, Validations, aws_ecs as ecs, aws_iam as iam, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { HybridService } from '../src';

/**
 * One load balancer, two kinds of compute: nginx on Fargate serves `/`, and
 * two Lambda functions serve `/api/health` and `/api/echo` on the same
 * listener. Public image, inline function code: no Docker build needed.
 *
 * It listens on HTTP because an example has no domain to certify; pass
 * `certificate` and it serves HTTPS with 80 redirecting to 443.
 */
export class HybridServiceStack extends Stack {
  public readonly web: HybridService;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);

    this.web = new HybridService(this, 'Web', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
      containerPort: 80,
      healthCheckPath: '/',
      desiredCount: 2,
      maxCapacity: 6,
      requestsPerTarget: 500,
      internetFacing: true,
      allowedCidrs: ['0.0.0.0/0'],
      lambdaRoutes: [
        { id: 'Health', function: routeFunction(this, 'HealthFunction', HEALTH), pathPatterns: ['/api/health'], priority: 10 },
        { id: 'Echo', function: routeFunction(this, 'EchoFunction', ECHO), pathPatterns: ['/api/echo', '/api/echo/*'], priority: 20 },
      ],
    });
  }
}

const HEALTH = `exports.handler = async () => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ status: 'ok', served: 'lambda', at: new Date().toISOString() }),
});`;

const ECHO = `exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    method: event.httpMethod,
    path: event.path,
    query: event.queryStringParameters || {},
    body: event.isBase64Encoded ? Buffer.from(event.body || '', 'base64').toString('utf8') : event.body || null,
  }),
});`;

/** A function with its own role (its log group and X-Ray only) and a log group with retention. */
function routeFunction(scope: Construct, id: string, code: string): lambda.Function {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH });
  const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  logGroup.grantWrite(role);
  const fn = new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromInline(code),
    memorySize: 256,
    timeout: Duration.seconds(5),
    tracing: lambda.Tracing.ACTIVE,
    logGroup,
    role,
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.',
  });
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason: 'Invoked synchronously by the load balancer only: a failed request is answered with a 502, there is no event to keep.',
  });
  return fn;
}

if (require.main === module) {
  new HybridServiceStack(new App(), 'HybridServiceExample', { env: { region: 'eu-west-1' } });
}
