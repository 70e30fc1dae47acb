import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEnv } from '../src/config/env';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('documentation stays true', () => {
  const names = describeEnv().map(({ name }) => name);

  it('when a variable is in the env schema, then the README table lists it', () => {
    const readme = read('README.md');
    expect(names.filter((name) => !readme.includes(`| \`${name}\` |`))).toEqual([]);
  });

  it('when a variable is in the env schema, then .env.example has it', () => {
    const example = read('.env.example');
    expect(names.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example))).toEqual([]);
  });

  it('when the README names a test command, then package.json runs it', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toBeDefined();
    expect(read('.ci/run')).toMatch(/^npm test$/m);
    expect(read('README.md')).toContain('npm test');
  });
});
