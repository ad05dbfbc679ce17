import { AwsJsonError, awsJsonTransport, AwsJsonTransport, AwsJsonTransportOptions, serviceEndpoint } from './json-protocol';

/** Sends one DynamoDB JSON-protocol operation and returns its parsed answer; throws `DynamoError`. */
export type DynamoTransport = AwsJsonTransport;

/** A DynamoDB error with its type (`ConditionalCheckFailedException`, `ThrottlingException`, ...). */
export const DynamoError = AwsJsonError;
export type DynamoError = AwsJsonError;

export type DynamoTransportOptions = AwsJsonTransportOptions;

/**
 * DynamoDB over SigV4-signed HTTP (the JSON 1.0 protocol), with the SDK's
 * retry rules in small: throttling, 5xx and network errors are retried with
 * jittered exponential backoff; a condition that failed is not.
 */
export function dynamoTransport(options: DynamoTransportOptions): DynamoTransport {
  return awsJsonTransport('dynamodb', 'DynamoDB_20120810', options);
}

/** The DynamoDB endpoint of the handler's environment. */
export function dynamoEndpoint(region: () => Promise<string>): () => Promise<string> {
  return serviceEndpoint('dynamodb', 'DYNAMODB', region);
}

type AttributeValue =
  | { S: string } | { N: string } | { BOOL: boolean } | { L: AttributeValue[] } | { M: Record<string, AttributeValue> } | { NULL: true };

/** A plain value as a DynamoDB attribute value (strings, numbers, booleans, lists, maps). */
export function marshall(value: unknown): AttributeValue {
  if (value === null || value === undefined) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(marshall) };
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return { M: Object.fromEntries(entries.map(([k, v]) => [k, marshall(v)])) };
  }
  throw new Error(`cannot store a ${typeof value} in DynamoDB`);
}

/** A DynamoDB attribute value as a plain value. */
export function unmarshall(value: any): any {
  if ('S' in value) return value.S;
  if ('N' in value) return Number(value.N);
  if ('BOOL' in value) return value.BOOL;
  if ('NULL' in value) return null;
  if ('L' in value) return value.L.map(unmarshall);
  if ('M' in value) return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, unmarshall(v)]));
  if ('SS' in value) return [...value.SS];
  throw new Error(`unsupported DynamoDB attribute value ${JSON.stringify(value)}`);
}

/** An item as a plain object. */
export function unmarshallItem(item: Record<string, any> | undefined): Record<string, any> | undefined {
  return item ? Object.fromEntries(Object.entries(item).map(([k, v]) => [k, unmarshall(v)])) : undefined;
}
