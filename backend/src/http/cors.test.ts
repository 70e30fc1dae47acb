import { describe, expect, it } from 'vitest';
import { originPolicy } from './cors';

describe('originPolicy (CORS_ORIGINS)', () => {
  it('when unset in production, then no browser origin is allowed; requests without an Origin are not CORS and pass', () => {
    const allowed = originPolicy({ origins: undefined, production: true });
    expect(['http://localhost:3000', 'http://127.0.0.1:5173', 'https://app.example.com'].filter(allowed)).toEqual([]);
    expect(allowed(undefined)).toBe(true);
  });

  it('when unset outside production, then local front ends on any port are allowed, and nothing that only looks like them', () => {
    const allowed = originPolicy({ origins: undefined, production: false });
    expect(
      ['http://localhost:5173', 'http://localhost', 'http://127.0.0.1:8080', 'HTTP://LOCALHOST:3000'].every(allowed),
    ).toBe(true);
    expect(
      [
        'https://localhost:5173',
        'http://localhost.evil.com',
        'http://localhost:5173.evil.com',
        'http://localhost:abc',
      ].some(allowed),
    ).toBe(false);
  });

  it('when listed, then exactly those origins (and ports for :*) are allowed', () => {
    const allowed = originPolicy({ origins: 'https://app.example.com, http://10.0.0.5:*', production: true });
    expect(['https://app.example.com', 'http://10.0.0.5:8080'].every(allowed)).toBe(true);
    expect(['https://app.example.com:8443', 'https://evil.example.com', 'http://localhost:3000'].some(allowed)).toBe(
      false,
    );
  });
});
