import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version as string;
const changelog = fs.readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8');

test('the package is a 0.x version, experimental until 1.0', () => {
  expect(version).toMatch(/^0\.[1-9]\d*\.\d+$|^0\.0\.[1-9]\d*$/);
  expect(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).stability).toBe('experimental');
});

test('CHANGELOG.md has a section for the package version', () => {
  expect(changelog).toContain(`## [${version}]`);
});

test('CHANGELOG.md lists versions newest first', () => {
  const versions = [...changelog.matchAll(/^## \[(\d+)\.(\d+)\.(\d+)\]/gm)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
  const sorted = [...versions].sort((a, b) => b[0] - a[0] || b[1] - a[1] || b[2] - a[2]);
  expect(versions).toEqual(sorted);
});
