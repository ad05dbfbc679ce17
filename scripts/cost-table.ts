/**
 * The README's "ECS or Lambda?" table, computed with `ComputeCost` so it
 * cannot drift from the prices. `npx projen cost-table` rewrites it in
 * README.md; test/cost/decision-table.test.ts fails when it is stale.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Size, aws_ecs as ecs } from 'aws-cdk-lib';
import { DEFAULT_FARGATE_STARTUP_MS, formatDollars, formatDuration, LAMBDA_MAX_DURATION_MS } from '../src/contract/compute-pricing';
import { ComputeCost, ComputePrices, FargateCostOptions, LambdaCostOptions } from '../src/cost/compute-cost';

export const README = path.join(__dirname, '..', 'README.md');
export const START = '<!-- compute-cost-table:start -->';
export const END = '<!-- compute-cost-table:end -->';

const DURATIONS = [
  Duration.seconds(1), Duration.seconds(5), Duration.seconds(10), Duration.seconds(30),
  Duration.minutes(1), Duration.minutes(5), Duration.minutes(15), Duration.hours(1),
];

/** 1 vCPU / 2 GiB on both sides: Lambda at 2,048 MB (1,769 MB is one vCPU) on arm64, the cheaper architecture. */
const LAMBDA: LambdaCostOptions = { memory: Size.mebibytes(2048) };
const TASK = { cpu: 1024, memory: Size.gibibytes(2) };
const FARGATE: ReadonlyArray<{ heading: string; task: FargateCostOptions }> = [
  { heading: 'Fargate x86_64', task: TASK },
  { heading: 'Fargate ARM64', task: { ...TASK, architecture: ecs.CpuArchitecture.ARM64 } },
  { heading: 'Fargate Spot (x86_64)', task: { ...TASK, spot: true } },
];

/** The markdown between the README markers (without them). */
export function decisionTable(): string {
  const prices = ComputePrices.US_EAST_1_2026_11;
  const lines = [
    `| one job that runs | Lambda 2,048 MB arm64 | ${FARGATE.map((f) => f.heading).join(' | ')} |`,
    `|---|${'---:|'.repeat(1 + FARGATE.length)}`,
  ];
  for (const duration of DURATIONS) {
    const lambda = ComputeCost.lambdaInvocation({ ...LAMBDA, duration, prices });
    const fargate = FARGATE.map((f) => ComputeCost.fargateTask({ ...f.task, duration, prices }).dollars);
    const candidates = lambda.exceedsLambdaLimit ? fargate : [lambda.dollars, ...fargate];
    const cheapest = Math.min(...candidates);
    const cell = (amount: number) => (amount === cheapest ? `**${formatDollars(amount)}**` : formatDollars(amount));
    const lambdaCell = lambda.exceedsLambdaLimit
      ? `${formatDollars(lambda.dollars)} (over the ${formatDuration(LAMBDA_MAX_DURATION_MS)} limit)`
      : cell(lambda.dollars);
    lines.push(`| ${formatDuration(duration.toMilliseconds())} | ${lambdaCell} | ${fargate.map(cell).join(' | ')} |`);
  }
  const breakEvens = FARGATE.map((f) => {
    const result = ComputeCost.breakEven({ lambdaFunction: LAMBDA, fargateTask: f.task, prices });
    if (result.duration) return formatDuration(result.duration.toMilliseconds());
    return result.lambdaAlwaysCheaper ? 'any run' : 'never';
  });
  lines.push(`| **Lambda is cheaper below** | | ${breakEvens.join(' | ')} |`);
  return [
    'Dollars per job, the cheapest in bold. Lambda: 2,048 MB on arm64, billed per millisecond plus one request. '
      + 'Fargate: one task of 1 vCPU / 2 GiB per job, billed per second from the image pull '
      + `with ${formatDuration(DEFAULT_FARGATE_STARTUP_MS)} of start-up, at least one minute; `
      + `Spot at its advertised ${Math.round(prices.spotDiscount * 100)}% discount (the live Spot rate is often less).`,
    '',
    ...lines,
    '',
    `Prices: ${prices.region} as of ${prices.asOf} (\`ComputePrices.US_EAST_1_2026_11\`), without free tiers or Savings Plans. `
      + 'Generated from `ComputeCost` by `npx projen cost-table`.',
  ].join('\n');
}

/** `readme` with the text between the markers replaced by `table`. */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start || readme.indexOf(START, start + 1) >= 0) {
    throw new Error(`README.md must contain '${START}' once, followed by '${END}'`);
  }
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
}

if (require.main === module) {
  const readme = fs.readFileSync(README, 'utf8');
  const updated = withTable(readme, decisionTable());
  fs.writeFileSync(README, updated);
  console.log(updated === readme ? 'README.md: the cost table is up to date' : 'README.md: cost table rewritten');
}
