export { JobField } from './job/job-field';
export * from './job/fargate-job';
export * from './network/job-vpc';
export * from './dispatch/job-source';
export * from './dispatch/job-dispatcher';
export * from './dispatch/s3-source';
export * from './dispatch/sqs-source';
export * from './dispatch/eventbridge-source';
export * from './testing/snapshot-normalizer';
