import * as fs from 'fs';
import { Size } from 'aws-cdk-lib';
import { decisionTable, END, README, START, withTable } from '../../scripts/cost-table';
import { ComputeCost, ComputePrices } from '../../src';

const readme = fs.readFileSync(README, 'utf8');

describe('the README\'s "ECS or Lambda?" table', () => {
  test('is exactly what ComputeCost computes today', () => {
    try {
      expect(readme).toBe(withTable(readme, decisionTable()));
    } catch (e) {
      (e as Error).message = 'README.md\'s cost table is stale: regenerate it with `npx projen cost-table` and commit README.md\n\n'
        + (e as Error).message;
      throw e;
    }
  });

  test('states the date of its prices and the break-even against each Fargate variant', () => {
    const table = decisionTable();
    expect(table).toContain(`Prices: us-east-1 as of ${ComputePrices.US_EAST_1_2026_11.asOf}`);
    expect(table).toContain('| **Lambda is cheaper below** | | 37.0 s | 24.7 s | 9.2 s |');
    // one row per duration, 1 s to 1 h
    expect(table.split('\n').filter((line) => /^\| \d+ (s|min|h) \|/.test(line)).map((line) => line.split(' | ')[0]))
      .toEqual(['| 1 s', '| 5 s', '| 10 s', '| 30 s', '| 1 min', '| 5 min', '| 15 min', '| 1 h']);
    // the 1 s row: Lambda 2 GB × 1 s × 0.0000133334 + 0.0000002 = 0.0000268668; Fargate x86_64 minimum 60 × 0.04937 / 3600 = 0.000822833
    expect(table).toContain('| 1 s | **$0.0000269** | $0.000823 |');
    expect(ComputeCost.breakEven({ lambdaFunction: { memory: Size.mebibytes(2048) }, fargateTask: { cpu: 1024, memory: Size.gibibytes(2) } })
      .duration!.toMilliseconds()).toBe(37_041);
  });

  test('replacing the table needs both markers, once', () => {
    expect(withTable(`a\n${START}\nold\n${END}\nb`, 'new')).toBe(`a\n${START}\nnew\n${END}\nb`);
    expect(() => withTable('no markers', 'x')).toThrow(`README.md must contain '${START}' once, followed by '${END}'`);
    expect(() => withTable(`${START}${END}${START}${END}`, 'x')).toThrow('once');
  });
});
