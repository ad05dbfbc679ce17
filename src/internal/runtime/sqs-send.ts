import { createHash } from 'crypto';
import { awsJsonTransport, serviceEndpoint } from './json-protocol';
import type { SigningOptions } from './signed-request';

/** A string or number message attribute, as SQS's SendMessage takes it. */
export interface MessageAttribute {
  readonly DataType: string;
  readonly StringValue: string;
}

/** The SendMessage input the handlers use. */
export interface SendMessageInput {
  readonly QueueUrl: string;
  readonly MessageBody: string;
  readonly DelaySeconds?: number;
  readonly MessageAttributes?: Record<string, MessageAttribute>;
}

/** Sends one message; resolves to its message id. */
export type SendMessage = (input: SendMessageInput) => Promise<string>;

/**
 * SQS `SendMessage` over the JSON protocol, signed with SigV4 (no SQS client:
 * the dispatcher bundle's size and cold start are budgeted, see
 * `npm run bench`). As the SDK does, the answer's MD5 of the body is checked:
 * a message SQS stored differently from what was sent is an error.
 */
export function sqsSendMessage(options: SigningOptions, endpoint?: string): SendMessage {
  const transport = awsJsonTransport('sqs', 'AmazonSQS', { ...options, endpoint: endpoint ? async () => endpoint : serviceEndpoint('sqs', 'SQS', options.region) });
  return async (input) => {
    const answer = await transport('SendMessage', { ...input });
    const md5 = createHash('md5').update(input.MessageBody, 'utf8').digest('hex');
    if (answer.MD5OfMessageBody !== md5) {
      throw new Error(`SQS SendMessage to ${input.QueueUrl}: MD5 of the stored body is ${answer.MD5OfMessageBody}, expected ${md5}`);
    }
    return String(answer.MessageId);
  };
}
