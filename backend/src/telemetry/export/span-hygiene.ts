import { SpanKind, type AttributeValue, type Attributes, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import {
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_SCHEME,
} from '../attributes';
import { tracingFailed } from '../failure';
import { redactAttributes, redactText } from './redaction';

/**
 * Attributes the HTTP instrumentation puts on every server span that nobody reads: the
 * client's ephemeral port, the peer address (client.address says the same, and better
 * behind a proxy), the protocol version and scheme (always 1.1 and http behind the load
 * balancer), our own address and port (the resource says which instance). Each costs
 * cleaning, memory and export bytes on every request.
 */
const UNREAD_SERVER_ATTRIBUTES = [
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_URL_SCHEME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
];

/**
 * One pass over every recorded span just before it ends:
 * - drops the server-span attributes nobody reads (above);
 * - the last line of defence for secrets: every string attribute, event attribute
 *   (exception messages and stacks) and the status message is checked for credential
 *   shapes and secret-looking query parameters (see redaction.ts), replaced by
 *   [REDACTED]. The instrumentations already record no headers; this catches what
 *   slips through (a token in an error message, a key in a query string).
 * Spans that are not sampled never reach it.
 */
export class SpanHygieneProcessor implements SpanProcessor {
  onStart(_span: Span, _parentContext: Context): void {}

  onEnding(span: Span): void {
    try {
      if (span.kind === SpanKind.SERVER) {
        const attributes = span.attributes as Record<string, AttributeValue>;
        for (const key of UNREAD_SERVER_ATTRIBUTES) delete attributes[key];
      }
      redactAttributes(span.attributes, (key, value) => span.setAttribute(key, value));
      for (const event of span.events) {
        const attributes = event.attributes as Attributes | undefined;
        redactAttributes(attributes, (key, value) => {
          (attributes as Record<string, AttributeValue>)[key] = value;
        });
      }
      if (span.status.message) {
        const message = redactText(span.status.message);
        if (message !== span.status.message) span.setStatus({ ...span.status, message });
      }
    } catch (failure) {
      tracingFailed('SpanHygieneProcessor', failure);
      failClosed(span);
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** When redaction itself fails, the span leaves with its name and timing only: an unchecked attribute may hold a secret. */
function failClosed(span: Span): void {
  try {
    const attributes = span.attributes as Record<string, AttributeValue>;
    for (const key of Object.keys(attributes)) delete attributes[key];
    (span.events as unknown[]).length = 0;
    if (span.status.message) span.setStatus({ code: span.status.code });
  } catch {
    // nothing more can be done for this span
  }
}
