import { Template } from 'aws-cdk-lib/assertions';

// The package is an ES module with a CommonJS build: load the CommonJS one (jest runs CommonJS).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StateMachine } = require('aws-local-stepfunctions') as { StateMachine: any };

/**
 * The state machine definition of a synthesized template with its tokens
 * resolved to fake but well-formed values: partition aws, region eu-west-1,
 * account 111122223333, `Fn::GetAtt [X, Arn]` → a Lambda-style ARN named X,
 * `Ref X` → X.
 */
export function localDefinition(template: Template, logicalIdPrefix = ''): any {
  const machines = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(([id]) => id.startsWith(logicalIdPrefix));
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const body = (machines[0][1] as any).Properties.DefinitionString;
  const parts: unknown[] = typeof body === 'string' ? [body] : body['Fn::Join'][1];
  const text = parts.map((p: any) => {
    if (typeof p === 'string') return p;
    if (p.Ref === 'AWS::Partition') return 'aws';
    if (p.Ref === 'AWS::Region') return 'eu-west-1';
    if (p.Ref === 'AWS::AccountId') return '111122223333';
    if (p.Ref) return p.Ref;
    if (p['Fn::GetAtt']) return `arn:aws:lambda:eu-west-1:111122223333:function:${p['Fn::GetAtt'][0]}`;
    throw new Error(`unexpected token in the definition: ${JSON.stringify(p)}`);
  }).join('');
  return JSON.parse(text);
}

/** An error with the name Step Functions matches in Retry and Catch. */
export function stepError(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

export interface LocalRun {
  /** Names of the states entered, in order (inner Map and Parallel states included; a Fail state is not entered, it ends the run). */
  readonly path: string[];
  /** States that were retried, in order. */
  readonly retried: string[];
  readonly caught: string[];
  readonly output?: any;
  readonly error?: { name: string; message: string };
}

/** Runs the definition locally with handlers standing in for every Task state. */
export async function runLocally(
  definition: any,
  input: any,
  handlers: Record<string, (input: any) => Promise<any>>,
  context: Record<string, unknown> = {},
): Promise<LocalRun> {
  const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
  const retryIntervalOverrides = Object.fromEntries(collectStateNames(definition).map((n) => [n, 0]));
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
    context: {
      Execution: { Id: 'arn:aws:states:eu-west-1:111122223333:execution:local:run-1', Input: input, Name: 'run-1', StartTime: '2026-11-27T10:00:00.000Z' },
      ...context,
    },
  });
  const path: string[] = [];
  const retried: string[] = [];
  const caught: string[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs as AsyncGenerator<any>) {
      if (event.type === 'StateEntered') path.push(event.state.name);
      if (event.type === 'StateRetried') retried.push(event.state.name);
      if (event.type === 'StateCaught') caught.push(event.state.name);
    }
  })();
  try {
    const output = await execution.result;
    await collecting;
    return { path, retried, caught, output };
  } catch (e) {
    await collecting.catch(() => undefined);
    // The emulator wraps the failure: keep the error the Fail state reported.
    const err = e as Error & { cause?: Error };
    const inner = err.cause instanceof Error ? err.cause : err;
    return { path, retried, caught, error: { name: inner.name, message: inner.message } };
  }
}

function collectStateNames(definition: any): string[] {
  const names: string[] = [];
  const walk = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states ?? {})) {
      names.push(name);
      if (state.ItemProcessor) walk(state.ItemProcessor.States);
      if (state.Iterator) walk(state.Iterator.States);
      for (const b of state.Branches ?? []) walk(b.States);
    }
  };
  walk(definition.States);
  return names;
}
