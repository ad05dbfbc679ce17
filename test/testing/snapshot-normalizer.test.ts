import { App, Stack, aws_lambda as lambda } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SnapshotNormalizer } from '../../src';

describe('SnapshotNormalizer', () => {
  test('replaces asset hashes in values and keys, and the latest Node.js runtime mapping and lookups', () => {
    const hash = 'a'.repeat(64);
    const template = {
      Mappings: { LatestNodeRuntimeMap: { 'eu-west-1': { value: 'nodejs22.x' } }, Other: { x: { y: 1 } } },
      Resources: {
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Code: { S3Key: `${hash}.zip` },
            Runtime: { 'Fn::FindInMap': ['LatestNodeRuntimeMap', { Ref: 'AWS::Region' }, 'value'] },
            Tags: { [`asset.${hash}`]: 'x' },
          },
        },
      },
    };
    expect(SnapshotNormalizer.normalize(template)).toEqual({
      Mappings: { LatestNodeRuntimeMap: 'LATEST_NODE_RUNTIME', Other: { x: { y: 1 } } },
      Resources: {
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: { Code: { S3Key: 'ASSET_HASH.zip' }, Runtime: 'LATEST_NODE_RUNTIME', Tags: { 'asset.ASSET_HASH': 'x' } },
        },
      },
    });
    // the input is not modified
    expect(template.Resources.Fn.Properties.Code.S3Key).toBe(`${hash}.zip`);
  });

  test('the jest serializer makes a real asset-bearing template stable', () => {
    const stack = new Stack(new App(), 'S');
    new lambda.Function(stack, 'F', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'i.h', code: lambda.Code.fromInline('exports.h=1') });
    new lambda.Function(stack, 'G', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromAsset(__dirname) });
    const json = Template.fromStack(stack).toJSON();
    const serializer = SnapshotNormalizer.jestSerializer();
    expect(serializer.test(json)).toBe(true);
    expect(serializer.test(SnapshotNormalizer.normalize(json))).toBe(false);
    expect(JSON.stringify(SnapshotNormalizer.normalize(json))).not.toMatch(/[0-9a-f]{64}/);
    expect(JSON.stringify(json)).toMatch(/[0-9a-f]{64}/);
  });
});
