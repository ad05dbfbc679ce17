import { ExpectedResult, Match } from '@aws-cdk/integ-tests-alpha';
import { App } from 'aws-cdk-lib';
import { integTest, REGION, WAIT } from './common';
import { HybridServiceStack } from '../../examples/hybrid-service';

/** The load balancer answers on / from the Fargate service (nginx) and on /api/health from a Lambda route. */
export function build(app = new App()): App {
  const stack = new HybridServiceStack(app, 'IntegHybridService', { env: { region: REGION } });
  const integ = integTest(app, 'HybridService', stack);

  const url = `http://${stack.web.loadBalancer.loadBalancerDnsName}`;
  integ.assertions.httpApiCall(`${url}/`)
    .expect(ExpectedResult.objectLike({ status: 200, body: Match.stringLikeRegexp('nginx') }))
    .waitForAssertions(WAIT)
    .next(integ.assertions.httpApiCall(`${url}/api/health`)
      .expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ok', served: 'lambda' } }))
      .waitForAssertions(WAIT));
  return app;
}

if (require.main === module) build().synth();
