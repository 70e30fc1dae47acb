import { describe, expect, it } from 'vitest';
import { parseEnv } from './env';

describe('parseEnv: budget, idempotency, JWT claims and CORS', () => {
  it('when nothing is set, then there is no AI budget, keys last a day, and no claims or origins are configured', () => {
    expect(parseEnv({})).toMatchObject({ AI_DAILY_TOKEN_BUDGET: 0, IDEMPOTENCY_KEY_TTL_SECONDS: 86_400 });
    const env = parseEnv({});
    expect([env.JWT_ISSUER, env.JWT_AUDIENCE, env.CORS_ORIGINS]).toEqual([undefined, undefined, undefined]);
  });

  it('when values are given, then they are parsed', () => {
    const env = parseEnv({
      AI_DAILY_TOKEN_BUDGET: '50000',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:*',
      JWT_ISSUER: ' https://auth.example.com ',
    });
    expect(env).toMatchObject({
      AI_DAILY_TOKEN_BUDGET: 50_000,
      CORS_ORIGINS: 'https://app.example.com, http://localhost:*',
      JWT_ISSUER: 'https://auth.example.com',
    });
  });

  it.each([
    ['AI_DAILY_TOKEN_BUDGET', '-1'],
    ['AI_DAILY_TOKEN_BUDGET', 'lots'],
    ['IDEMPOTENCY_KEY_TTL_SECONDS', '5'],
    ['CORS_ORIGINS', '*'],
    ['CORS_ORIGINS', 'https://app.example.com/path'],
    ['CORS_ORIGINS', 'app.example.com'],
  ])('when %s=%s, then start-up stops with a message naming it', (name, value) => {
    expect(() => parseEnv({ [name]: value })).toThrowError(new RegExp(`${name}: `));
  });
});
