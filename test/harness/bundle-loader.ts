import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import * as vm from 'vm';
import type { FakeAws } from './fake-aws';

export const DISPATCHER_BUNDLE = path.join(__dirname, '..', '..', 'assets', 'dispatch', 'dispatcher.lambda', 'index.js');
export const ROUTE_DISPATCHER_BUNDLE = path.join(__dirname, '..', '..', 'assets', 'dispatch', 'route-dispatcher.lambda', 'index.js');
export const WORKFLOW_DISPATCHER_BUNDLE = path.join(__dirname, '..', '..', 'assets', 'dispatch', 'workflow-dispatcher.lambda', 'index.js');
export const TRACKER_BUNDLE = path.join(__dirname, '..', '..', 'assets', 'tracking', 'tracker.lambda', 'index.js');

/** A handler the way Lambda calls it. */
export type BundledHandler = (event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => Promise<any>;

/**
 * Points every AWS client of a bundle at the fake (the handlers read these
 * when they call, as in Lambda, where credentials come from the environment).
 */
export function lambdaEnvironment(fake: FakeAws): Record<string, string> {
  return {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'ASIAFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake',
    AWS_SESSION_TOKEN: 'session',
    AWS_ENDPOINT_URL_ECS: fake.url,
    AWS_ENDPOINT_URL_SQS: fake.url,
    AWS_ENDPOINT_URL_EVENTBRIDGE: fake.url,
    AWS_ENDPOINT_URL_SFN: fake.url,
    AWS_ENDPOINT_URL_DYNAMODB: fake.url,
    AWS_ENDPOINT_URL_LAMBDA: fake.url,
  };
}

/**
 * Loads a fresh instance of a shipped bundle (a new execution environment:
 * its config and clients are built at load, from `env`), in this process.
 * The environment stays set: the SDK reads credentials when it first calls.
 */
export function loadBundle(bundle: string, env: Record<string, string>, logs?: Array<Record<string, unknown>>): BundledHandler {
  Object.assign(process.env, env);
  // The bundle gets this `process` (under jest, the test's: its env is not the real one).
  const wrapped = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname, process, console) {${fs.readFileSync(bundle, 'utf8')}\n})`, {
    filename: bundle,
    // The SDK's HTTP handler loads node:http lazily, with import().
    importModuleDynamically: (vm.constants as any).USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const m = { exports: {} as { handler?: BundledHandler } };
  wrapped(m.exports, createRequire(bundle), m, bundle, path.dirname(bundle), process, logs ? jsonLines(logs) : console);
  if (!m.exports.handler) throw new Error(`${bundle} exports no handler`);
  return m.exports.handler;
}

/** A console that collects the JSON lines a handler logs (structured logs and EMF) instead of printing them. */
function jsonLines(into: Array<Record<string, unknown>>): Console {
  const log = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    try {
      into.push(JSON.parse(line));
    } catch {
      console.log(...args);
    }
  };
  return { ...console, log, info: log } as Console;
}
