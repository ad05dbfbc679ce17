import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, NagPack, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/** One unacknowledged cdk-nag finding. */
export interface NagFinding {
  readonly rule: string;
  readonly path: string;
  readonly description: string;
}

/**
 * Runs the AwsSolutions and Serverless packs over a synthesized construct
 * tree and returns every unacknowledged finding.
 *
 * The packs are run directly (`validateScope`) rather than registered with
 * `Validations.of(app).addPlugins()`: with aws-cdk-lib 2.257 the plugin route
 * reports "NagPack requires a construct tree on the validation context" in
 * `policy-validation-report.json` and lets the synth pass without checking
 * anything. Call it after `app.synth()`, when every acknowledgment is recorded.
 */
export function nagFindings(scope: IConstruct): NagFinding[] {
  return findings(scope, [new AwsSolutionsChecks(scope, { verbose: true }), new ServerlessChecks(scope, { verbose: true })]);
}

/**
 * Runs the compliance packs, `NIST80053R5Checks` and `HIPAASecurityChecks`,
 * the same way (after `app.synth()`), and returns every unacknowledged finding.
 */
export function complianceFindings(scope: IConstruct): NagFinding[] {
  return findings(scope, [new NIST80053R5Checks(scope, { verbose: true }), new HIPAASecurityChecks(scope, { verbose: true })]);
}

function findings(scope: IConstruct, packs: NagPack[]): NagFinding[] {
  const found: NagFinding[] = [];
  for (const pack of packs) {
    for (const v of pack.validateScope(scope).violations) {
      for (const r of v.violatingResources) {
        found.push({ rule: v.ruleName, path: r.constructPath ?? '(unknown)', description: v.description });
      }
    }
  }
  return found;
}
