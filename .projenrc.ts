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
  // Until 1.0 the API may change in any minor version.
  stability: 'experimental',

  // Every jsii language, with the conventional names. `release: false`: no
  // publishing jobs are generated; `.ci/run` generates the four packages'
  // code with `jsii-pacmak --code-only` and byte-compiles the Python, so a
  // name that breaks a language fails CI.
  publishToPypi: { distName: 'cdk-hybrid-compute', module: 'cdk_hybrid_compute' },
  publishToMaven: {
    javaPackage: 'io.github.cdkhybridcompute',
    mavenGroupId: 'io.github.cdk-hybrid-compute',
    mavenArtifactId: 'cdk-hybrid-compute',
  },
  publishToNuget: { dotNetNamespace: 'CdkHybridCompute', packageId: 'CdkHybridCompute' },
  publishToGo: { moduleName: 'github.com/cdk-hybrid-compute/cdk-hybrid-compute-go', packageName: 'cdkhybridcompute' },

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
    // Integration tests (test/integ/integ.*.ts): deployable with integ-runner;
    // CI synthesizes them and compares their snapshots. 2.245.0-alpha.0 is the
    // newest integ-tests-alpha on the registry (its peer: aws-cdk-lib ^2.245.0).
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
    '@aws-cdk/integ-runner@^2.197.10',
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
    // `test` compares snapshots (`--ci`): a missing, changed or obsolete
    // snapshot fails, locally and in CI. `npx projen test:update` rewrites them.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
  },

  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'scripts'],
    // Lint with one dev tsconfig that sees everything: handlers and examples
    // are outside the jsii compilation, so the project service would not find them.
    projectService: false,
    tsconfigPath: './tsconfig.dev.json',
    // The build reports lint errors instead of rewriting sources (CI must not
    // pass on code it changed): `npx projen eslint --fix` fixes them.
    commandOptions: { fix: false },
  },

  // integ-runner writes its snapshots and outputs next to the tests; CI
  // checks the tests' snapshots with jest (test/integ/integ.test.ts) instead.
  gitignore: ['cdk.out/', '.cdk.staging/', 'bench/results.json', 'test/integ/*.snapshot/', 'test/integ/cdk-integ.out.*/', 'cdk-integ.out.*/'],
  npmIgnoreOptions: { ignorePatterns: ['/examples/', '/cdk.json', '/.ci/', '/bench/', '/scripts/', '/cdk.out/'] },
});

// Lambda handlers (`src/**/<name>.lambda.ts`) are bundled at build time into
// `assets/<dir>/<name>.lambda/index.js`, never at synth: consumers in other
// jsii languages cannot bundle. The AWS SDK is bundled (not taken from the
// runtime) so the handler runs exactly the client version we test against;
// ESM entry points (`module`) let esbuild drop the parts we do not call.
const LAMBDA_HANDLERS = [
  'src/dispatch/dispatcher.lambda.ts', 'src/dispatch/route-dispatcher.lambda.ts', 'src/dispatch/workflow-dispatcher.lambda.ts', 'src/tracking/tracker.lambda.ts',
];
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
  include: ['src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'projenrc/**/*.ts', '.projenrc.ts'],
  exclude: ['node_modules'],
  compilerOptions: { rootDir: '.', noEmit: true },
});

// Tests, examples, bench and scripts type-checked before jest runs: ts-jest
// compiles each test file on its own and let a test with a type error pass.
project.testTask.prependExec('tsc -p tsconfig.dev.json');

// `npm run bench`: ratios against baselines measured in the same run (see bench/run.ts).
project.addTask('bench', {
  description: 'Benchmark the dispatcher (init, size, batch latency, throughput, loss, synth, heap) into bench/results.json',
  steps: [
    { spawn: 'bundle' },
    { exec: 'ts-node --transpile-only bench/run.ts' },
  ],
});

// `npx projen cost-table`: rewrite README.md's "ECS or Lambda?" table from
// ComputeCost (test/cost/decision-table.test.ts fails when it is stale).
project.addTask('cost-table', {
  description: 'Regenerate the "ECS or Lambda?" per-job cost table in README.md from ComputeCost',
  exec: 'ts-node --transpile-only scripts/cost-table.ts',
});

// jsii reports names that break a target language (`lambda` in Python, `map`
// in Go, …) as warnings, which projen silences: fail on them instead.
project.compileTask.reset('jsii --fail-on-warnings');
project.watchTask.reset('jsii -w --fail-on-warnings');

// The versioned package. Without projen's release machinery (`release:
// false`) projen writes 0.0.0; CHANGELOG.md has a section for this version
// (test/changelog.test.ts checks it).
project.package.addVersion('0.1.0');

// `package` builds the npm tarball only: `package-all` would also build the
// Python, Java, .NET and Go packages, which needs their toolchains.
// `package:bindings` generates their code without toolchains and
// byte-compiles the Python (CI runs it: a name that breaks a language fails).
project.packageTask.reset();
project.packageTask.spawn(project.tasks.tryFind('package:js')!);
project.addTask('package:bindings', {
  description: 'Generate the Python, Java, .NET and Go packages (code only, no toolchains) into dist/bindings and byte-compile the Python',
  steps: [
    { exec: 'rm -rf dist/bindings' },
    { exec: 'jsii-pacmak --code-only --targets python,java,dotnet,go --outdir dist/bindings' },
    { exec: 'find dist/bindings/python -name "*.py" -print0 | xargs -0 python3 -m py_compile' },
    { exec: 'echo "generated: $(find dist/bindings/python -name \"*.py\" | wc -l) Python, $(find dist/bindings/java -name \"*.java\" | wc -l) Java, $(find dist/bindings/dotnet -name \"*.cs\" | wc -l) C#, $(find dist/bindings/go -name \"*.go\" | wc -l) Go files"' },
  ],
});

// Development still works on Node.js 20 (minNodeVersion); Node.js 22 is the
// supported version (20 is past its end of life).
new TextFile(project, '.nvmrc', { lines: ['22'] });

project.synth();
