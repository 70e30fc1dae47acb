/**
 * `npm run token -- <userId> [--expires-in 24h]`: prints a bearer token for the local
 * server, signed with JWT_SECRET or the generated development secret.
 */
import { parseArgs } from 'node:util';
import { resolveJwtSecret, signToken } from '../auth/tokens';
import { getEnvOrExit } from '../config/env';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'expires-in': { type: 'string', default: '24h' } },
  });
  const userId = positionals[0];
  if (userId === undefined || userId.length === 0 || userId.length > 200) {
    process.stderr.write('usage: npm run token -- <userId> [--expires-in 24h]\n');
    process.exit(2);
  }
  const env = getEnvOrExit();
  const { secret } = await resolveJwtSecret({ jwtSecret: env.JWT_SECRET, dataDir: env.DATA_DIR });
  process.stdout.write(
    `${await signToken(secret, userId, values['expires-in'], { issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
