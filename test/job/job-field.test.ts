import { JobField } from '../../src';
import { fieldsIn, parseJobPath } from '../../src/contract/job-fields';

describe('JobField', () => {
  test('factories return distinct markers naming their field', () => {
    const markers = [
      JobField.jobId(), JobField.sourceType(), JobField.s3Bucket(), JobField.s3Key(), JobField.s3Uri(), JobField.s3Size(),
      JobField.s3ETag(), JobField.s3VersionId(), JobField.s3EventName(), JobField.body(), JobField.messageId(),
      JobField.detail(), JobField.detailType(), JobField.eventSource(), JobField.wholeEvent(), JobField.fromPath('$.a'),
    ];
    expect(new Set(markers).size).toBe(markers.length);
    expect(JobField.s3Key()).toBe('{{hc:s3.key}}');
    expect(JobField.fromPath('$.detail.orderId')).toBe('{{hc:path:$.detail.orderId}}');
    for (const m of markers) expect(JobField.containsField(m)).toBe(true);
  });

  test('markers embedded in larger strings are found', () => {
    const s = `s3://${JobField.s3Bucket()}/out/${JobField.jobId()}.json`;
    expect(JobField.containsField(s)).toBe(true);
    expect(fieldsIn(s)).toEqual(['s3.bucket', 'job.id']);
    expect(JobField.containsField('plain {{resolve:ssm:x}} text')).toBe(false);
  });

  test.each([
    ['$', []],
    ['$.detail.orderId', ['detail', 'orderId']],
    ['$.items[2].name', ['items', 2, 'name']],
    ["$['detail-type']", ['detail-type']],
    ["$.a['b c'][0]", ['a', 'b c', 0]],
  ])('parses path %s', (path, steps) => {
    expect(parseJobPath(path)).toEqual(steps);
  });

  test.each([
    ['detail.x', "job field path must start with '$'"],
    ['$.a..b', 'unsupported step at position 3'],
    ['$.a[*]', 'unsupported step at position 3'],
    ['$.a}}', "must not contain '{' or '}'"],
  ])('rejects path %s with a message that says what to change', (path, message) => {
    expect(() => JobField.fromPath(path)).toThrow(message);
  });
});
