import { awscdk, javascript, JsonFile, TextFile } from 'projen';


// Minimum aws-cdk-lib that cdk-nag 3 supports: consumers may use any newer 2.x.
const CDK_VERSION = '2.257.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-hybrid-compute',
  description: 'L3 constructs for hybrid Lambda + ECS Fargate patterns: event sources wired to a dispatcher Lambda that launches Fargate tasks reliably, with least-privilege IAM and private networking by default.',
  author: 'cdk-hybrid-compute developers',
  authorAddress: 'dev@cdk-hybrid-compute.invalid',
  repositoryUrl: 'https://github.com/cdk-hybrid-compute/cdk-hybrid-compute.git',
  defaultReleaseBranch: 'main',
  keywords: ['cdk', 'aws-cdk', 'ecs', 'fargate', 'lambda', 'sqs', 's3', 'eventbridge', 'dispatcher'],

  cdkVersion: CDK_VERSION,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~5.9.0',
  // Handler code is bundled, not shipped as a jsii module: keep it out of the
  // jsii compilation (it imports the AWS SDK, a dev dependency).
  excludeTypescript: ['src/**/*.lambda.ts', 'src/**/runtime/**'],
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.16.0',

  // No hosted CI, release automation or bots: `.ci/run` is the CI.
  github: false,
  release: false,
  depsUpgrade: false,
  buildWorkflow: false,
  pullRequestTemplate: false,

  devDeps: [
    'aws-cdk@^2.1100.0',
    'cdk-nag@^3.0.2',
    // Bundled into the dispatcher asset at build time (see lambdaOptions), so
    // consumers never install it and the Lambda never depends on the SDK
    // version the runtime happens to ship.
    '@aws-sdk/client-ecs@^3.1164.0',
    '@aws-sdk/client-sqs@^3.1164.0',
    '@aws-sdk/client-eventbridge@^3.1164.0',
    '@aws-sdk/client-sfn@^3.1164.0',
    // Step Functions definitions: validated and executed locally in the tests.
    'asl-validator@^4.0.0',
    'aws-local-stepfunctions@^3.0.0',
    // Lambda's credential sources only (see src/internal/runtime/lambda-credentials.ts),
    // SigV4 for the claim-check PUT, and their types.
    '@aws-sdk/credential-provider-env@^3.972.85',
    '@aws-sdk/credential-provider-http@^3.972.87',
    '@smithy/signature-v4@^5.7.5',
    '@smithy/core@^3.41.1',
    '@smithy/types',
    'aws-sdk-client-mock@^4.1.0',
    // Property-based tests of normalization and input mapping.
    'fast-check@^4.3.0',
  ],

  // Handlers are bundled explicitly below (minified, SDK included), and the
  // constructs that use them pin their runtime themselves.
  lambdaAutoDiscover: false,

  jestOptions: {
    jestConfig: {
      setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testTimeout: 60_000,
      coverageReporters: ['text-summary', 'lcov'],
    },
  },

  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench'],
    // Lint with one dev tsconfig that sees everything: handlers and examples
    // are outside the jsii compilation, so the project service would not find them.
    projectService: false,
    tsconfigPath: './tsconfig.dev.json',
  },

  gitignore: ['cdk.out/', '.cdk.staging/', 'bench/results.json'],
  npmIgnoreOptions: { ignorePatterns: ['/examples/', '/cdk.json', '/.ci/', '/bench/', '/cdk.out/'] },
});

// Lambda handlers (`src/**/<name>.lambda.ts`) are bundled at build time into
// `assets/<dir>/<name>.lambda/index.js`, never at synth: consumers in other
// jsii languages cannot bundle. The AWS SDK is bundled (not taken from the
// runtime) so the handler runs exactly the client version we test against;
// ESM entry points (`module`) let esbuild drop the parts we do not call.
const LAMBDA_HANDLERS = ['src/dispatch/dispatcher.lambda.ts', 'src/dispatch/workflow-dispatcher.lambda.ts', 'src/tracking/tracker.lambda.ts'];
for (const entrypoint of LAMBDA_HANDLERS) {
  project.bundler.addBundle(entrypoint, {
    platform: 'node',
    target: 'node22',
    externals: [],
    minify: true,
    sourcemap: false,
    mainFields: ['module', 'main'],
    // In Lambda, credentials come from the environment (or a container
    // endpoint): the default chain's SSO/INI/process/IMDS providers are dead
    // weight at every cold start.
    esbuildArgs: { '--alias:@aws-sdk/credential-provider-node': './src/internal/runtime/lambda-credentials.ts' },
  });
}

// Handler code is bundled at build time: the SDK clients it imports are dev
// dependencies by design.
project.eslint?.allowDevDeps('src/**/*.lambda.ts');
project.eslint?.allowDevDeps('src/**/runtime/**');

// `npx cdk synth` at the root synthesizes every example stack. The `build`
// step bundles the handlers first, so a fresh clone needs only `npm ci`.
new JsonFile(project, 'cdk.json', {
  obj: {
    app: 'npx ts-node --prefer-ts-exts examples/app.ts',
    build: 'npx projen bundle',
    output: 'cdk.out',
    watch: { include: ['src/**', 'examples/**'] },
    // Examples are environment-agnostic: no account, no context lookups.
    context: {},
  },
});

// Type-checking and linting view of the whole repository (the jsii tsconfig
// covers only the published constructs).
new javascript.TypescriptConfig(project, {
  fileName: 'tsconfig.dev.json',
  extends: javascript.TypescriptConfigExtends.fromPaths(['./tsconfig.json']),
  include: ['src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', 'projenrc/**/*.ts', '.projenrc.ts'],
  exclude: ['node_modules'],
  compilerOptions: { rootDir: '.', noEmit: true },
});

// `npm run bench`: ratios against baselines measured in the same run (see bench/run.ts).
project.addTask('bench', {
  description: 'Benchmark the dispatcher (init, size, batch latency, throughput, loss, synth, heap) into bench/results.json',
  steps: [
    { spawn: 'bundle' },
    { exec: 'ts-node --transpile-only bench/run.ts' },
  ],
});

new TextFile(project, '.nvmrc', { lines: ['20'] });

project.synth();
