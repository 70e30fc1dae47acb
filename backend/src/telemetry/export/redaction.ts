import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { ATTR_HTTP_TARGET, ATTR_HTTP_URL, ATTR_URL_FULL, ATTR_URL_QUERY } from '../attributes';

export const REDACTED = '[REDACTED]';

// Credentials with a recognisable shape. Kept to shapes that do not occur in normal text.
const SECRET_SHAPES = new RegExp(
  [
    String.raw`\bBearer\s+[A-Za-z0-9\-._~+/]{8,}=*`, // bearer tokens
    String.raw`\bBasic\s+[A-Za-z0-9+/]{12,}={0,2}`, // basic credentials
    String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, // JWTs
    String.raw`\bAIza[0-9A-Za-z_-]{35}`, // Google API keys
    String.raw`\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}`, // OpenAI/Anthropic-style keys
    String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`, // AWS access key ids
    String.raw`\bgh[pousr]_[A-Za-z0-9]{36,}`, // GitHub tokens
    String.raw`\bxox[abprs]-[A-Za-z0-9-]{10,}`, // Slack tokens
  ].join('|'),
  'g',
);
// Query parameters whose name says "secret", in url.query and url.full.
const SECRET_QUERY =
  /((?:^|[?&;])[^=&#;?/]*?(?:token|key|secret|passw|pwd|auth|sig|credential|session|code)[^=&#;?/]*=)[^&#;]*/gi;
const URL_ATTRIBUTES = new Set([ATTR_URL_QUERY, ATTR_URL_FULL, ATTR_HTTP_URL, ATTR_HTTP_TARGET]);
// user:password@host in any URL
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;

/** The text with known secret shapes replaced; the same string when there is nothing to hide. */
export function redactText(value: string, isUrl = false): string {
  if (value.length < 12) return value;
  let result = value.replace(SECRET_SHAPES, REDACTED);
  if (isUrl) result = result.replace(SECRET_QUERY, `$1${REDACTED}`).replace(URL_CREDENTIALS, `$1${REDACTED}@`);
  return result;
}

function redactValue(key: string, value: AttributeValue | undefined): AttributeValue | undefined {
  if (typeof value === 'string') {
    const redacted = redactText(value, URL_ATTRIBUTES.has(key));
    return redacted === value ? undefined : redacted;
  }
  if (Array.isArray(value) && value.some((item) => typeof item === 'string')) {
    let changed = false;
    const items = value.map((item) => {
      if (typeof item !== 'string') return item;
      const redacted = redactText(item);
      changed ||= redacted !== item;
      return redacted;
    });
    return changed ? (items as AttributeValue) : undefined;
  }
  return undefined;
}

export function redactAttributes(
  attributes: Attributes | undefined,
  set: (key: string, value: AttributeValue) => void,
): void {
  if (!attributes) return;
  for (const key in attributes) {
    const redacted = redactValue(key, attributes[key]);
    if (redacted !== undefined) set(key, redacted);
  }
}
