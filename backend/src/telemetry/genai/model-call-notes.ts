import { context, createContextKey, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '../attributes';
import { tracingFailed } from '../failure';
import * as attr from '../attributes';

/** What the provider's client reports from below the model span: raw responses and re-sent requests. */
export interface ModelCallRecord {
  span: Span;
  responseId?: string;
  responseModel?: string;
  retries: number;
  /** The last request's failure, until the next one is sent. */
  lastFailure?: { errorType: string; retryAfterSeconds?: number } | undefined;
}

const MODEL_CALL = createContextKey('renovation-agent.gen_ai.model_call');

/** `ctx` with a fresh record for the model call `span` describes. */
export function withModelCallRecord(ctx: Context, span: Span): Context {
  const record: ModelCallRecord = { span, retries: 0 };
  return ctx.setValue(MODEL_CALL, record);
}

export function recordOf(ctx: Context): ModelCallRecord | undefined {
  return ctx.getValue(MODEL_CALL) as ModelCallRecord | undefined;
}

/** What the provider's client tells the model span it runs under; every method is a no-op outside one. */
export interface ModelCallNotes {
  /** A request is about to be sent; one sent after a failed one is a retry (ours or LangChain's). */
  sending(): void;
  /** A request failed; `retryAfterSeconds` is the wait the provider asked for, if it did. */
  failed(errorType: string, retryAfterSeconds?: number): void;
  /** The id and model version of a raw response (LangChain drops Gemini's `responseId` and `modelVersion`). */
  response(meta: { id?: string | undefined; model?: string | undefined }): void;
}

const guarded = (where: string, fn: () => void): void => {
  try {
    fn();
  } catch (failure) {
    tracingFailed(where, failure);
  }
};

/**
 * The notes of the model call whose span is active now. Taken once when the client sends
 * its request (still in the span's context), then used for as long as the stream lasts.
 */
export function currentModelCall(ctx = context.active()): ModelCallNotes {
  const record = recordOf(ctx);
  return {
    sending: () =>
      guarded('ModelCallNotes.sending', () => {
        if (record?.lastFailure === undefined) return;
        record.retries += 1;
        record.span.setAttribute(attr.ATTR_RETRY_COUNT, record.retries);
        const { errorType, retryAfterSeconds } = record.lastFailure;
        const event: Attributes = { [ATTR_ERROR_TYPE]: errorType, [attr.ATTR_RETRY_COUNT]: record.retries };
        if (retryAfterSeconds !== undefined) event[attr.ATTR_RETRY_AFTER] = retryAfterSeconds;
        record.span.addEvent(attr.EVENT_RETRY, event);
        record.lastFailure = undefined;
      }),
    failed: (errorType, retryAfterSeconds) =>
      guarded('ModelCallNotes.failed', () => {
        if (record === undefined) return;
        record.lastFailure = { errorType, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
        if (retryAfterSeconds !== undefined) record.span.setAttribute(attr.ATTR_RETRY_AFTER, retryAfterSeconds);
      }),
    response: ({ id, model }) => {
      if (record === undefined) return;
      if (id) record.responseId = id;
      if (model) record.responseModel = model;
    },
  };
}
