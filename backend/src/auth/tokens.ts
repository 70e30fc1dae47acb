import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import { AppError } from '../errors/app-error';

const ALGORITHM = 'HS256';
const MAX_SUBJECT_LENGTH = 200;

export interface TokenVerifier {
  /** The user id (`sub`) of a valid token; throws UNAUTHORIZED otherwise. */
  verify(token: string): Promise<string>;
}

/** Claims a token must carry when configured (JWT_ISSUER, JWT_AUDIENCE). */
export interface TokenClaims {
  issuer?: string | undefined;
  audience?: string | undefined;
}

/**
 * HS256 tokens with a subject and an expiry: a token without `exp` would be valid
 * forever once leaked, so it is refused. `iss`/`aud` are checked when configured.
 */
export function createTokenVerifier(secret: Uint8Array, { issuer, audience }: TokenClaims = {}): TokenVerifier {
  const options = {
    algorithms: [ALGORITHM],
    requiredClaims: ['exp'],
    ...(issuer !== undefined ? { issuer } : {}),
    ...(audience !== undefined ? { audience } : {}),
  };
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, secret, options);
        if (typeof payload.sub === 'string' && payload.sub.length > 0 && payload.sub.length <= MAX_SUBJECT_LENGTH)
          return payload.sub;
      } catch (error) {
        throw new AppError('UNAUTHORIZED', 'the bearer token is invalid or expired', { cause: error });
      }
      throw new AppError('UNAUTHORIZED', 'the bearer token has no usable subject');
    },
  };
}

export async function signToken(
  secret: Uint8Array,
  userId: string,
  expiresIn = '24h',
  { issuer, audience }: TokenClaims = {},
): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: ALGORITHM }).setSubject(userId).setIssuedAt();
  jwt.setExpirationTime(expiresIn);
  if (issuer !== undefined) jwt.setIssuer(issuer);
  if (audience !== undefined) jwt.setAudience(audience);
  return jwt.sign(secret);
}

/**
 * The signing secret: JWT_SECRET, or outside production a random secret generated
 * once into DATA_DIR, so the server and `npm run token` agree and no well-known
 * development secret exists.
 */
export async function resolveJwtSecret({
  jwtSecret,
  dataDir,
}: {
  jwtSecret: string | undefined;
  dataDir: string;
}): Promise<{
  secret: Uint8Array;
  generated: string | undefined;
}> {
  if (jwtSecret !== undefined) return { secret: new TextEncoder().encode(jwtSecret), generated: undefined };
  const file = path.resolve(dataDir, 'dev-jwt-secret');
  let value: string;
  try {
    value = (await readFile(file, 'utf8')).trim();
  } catch {
    value = randomBytes(48).toString('base64url');
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
      // another process created it first: use theirs
      if (error.code !== 'EEXIST') throw error;
      value = (await readFile(file, 'utf8')).trim();
    });
  }
  return { secret: new TextEncoder().encode(value), generated: file };
}
