import { App, CfnOutput, Duration, Stack, StackProps, aws_ecs as ecs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { exampleFunction } from './example-function';
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
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:1.26.2'),
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

    new CfnOutput(this, 'LoadBalancerDnsName', { value: this.web.loadBalancer.loadBalancerDnsName, description: 'The load balancer\'s DNS name' });
    new CfnOutput(this, 'ServiceUrl', { value: `http://${this.web.loadBalancer.loadBalancerDnsName}`, description: 'nginx on /, Lambda on /api/health and /api/echo' });
  }
}

function routeFunction(scope: Construct, id: string, code: string) {
  return exampleFunction(scope, id, code, { timeout: Duration.seconds(5), invokedSynchronouslyBy: 'the load balancer' });
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

if (require.main === module) {
  new HybridServiceStack(new App(), 'HybridServiceExample', { env: { region: 'eu-west-1' } });
}
