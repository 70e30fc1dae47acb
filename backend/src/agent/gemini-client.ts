import { setTimeout as sleep } from 'node:timers/promises';
import { aiErrorType, currentModelCall } from '../utils/ai-tracing';

/** How the agent rides out Gemini's 429s: a few short waits, as long as Gemini asks for them. */
export interface RateLimitRetryPolicy {
  /** Requests sent again after a 429, at most. */
  retries: number;
  /** The longest wait honoured; a 429 asking for more fails at once (a user is waiting for the reply). */
  maxWaitSeconds: number;
}

export const DEFAULT_RATE_LIMIT_RETRY: RateLimitRetryPolicy = { retries: 2, maxWaitSeconds: 10 };

interface GeminiErrorLike {
  status?: unknown;
  message?: unknown;
  errorDetails?: Array<{ '@type'?: string; retryDelay?: string }>;
}

/**
 * The wait a Gemini 429 asks for, in seconds. Gemini puts it in the error body as
 * `google.rpc.RetryInfo.retryDelay` ("37s", "1.5s") and repeats it in the message
 * ("Please retry in 37.5s"); `@google/generative-ai` keeps the body's details but not the
 * response headers, so a `Retry-After` header alone would not reach us.
 */
export function retryAfterSeconds(error: unknown): number | undefined {
  const { errorDetails, message } = (error ?? {}) as GeminiErrorLike;
  const details = Array.isArray(errorDetails) ? errorDetails : [];
  const info = details.find((detail) => detail?.['@type']?.endsWith('google.rpc.RetryInfo'));
  const delay = /^(\d+(?:\.\d+)?)s$/.exec(info?.retryDelay ?? '');
  if (delay?.[1] !== undefined) return Number(delay[1]);
  const said = typeof message === 'string' ? /retry in (\d+(?:\.\d+)?)\s*(ms|s)\b/i.exec(message) : null;
  if (said?.[1] === undefined) return undefined;
  return said[2] === 'ms' ? Number(said[1]) / 1000 : Number(said[1]);
}

type Send<R> = (request: unknown, options?: { signal?: AbortSignal }) => Promise<R>;

/**
 * One model request, sent again after a 429 that asks for a short wait (LangChain's own
 * retries cover 5xx and network errors but give up on a Gemini 429 at once). Every send
 * and failure is noted on the model span, so retries by LangChain show there too.
 */
function withRateLimitRetries<R>(send: Send<R>, policy: RateLimitRetryPolicy, onResponse: (result: R) => R): Send<R> {
  return async (request, options) => {
    const notes = currentModelCall();
    for (let attempt = 0; ; attempt++) {
      notes.sending();
      try {
        return onResponse(await send(request, options));
      } catch (error) {
        const wait = (error as GeminiErrorLike | undefined)?.status === 429 ? retryAfterSeconds(error) : undefined;
        notes.failed(aiErrorType(error), wait);
        // no wait asked for (capacity unknown), too long a wait (a daily quota), or retries used up
        const exhausted = attempt >= policy.retries || options?.signal?.aborted === true;
        if (wait === undefined || wait > policy.maxWaitSeconds || exhausted) throw error;
        await sleep(wait * 1000, undefined, options?.signal ? { signal: options.signal } : {});
      }
    }
  };
}

/** The part of `@google/generative-ai`'s GenerativeModel wrapped here (LangChain's `client`). */
export interface GeminiModelClient {
  generateContent: unknown;
  generateContentStream: unknown;
}

interface RawResponse {
  responseId?: string;
  modelVersion?: string;
}

/**
 * Wraps the two SDK calls the chat model makes: 429 waits, and each raw response's
 * `responseId`/`modelVersion` passed to the model span (LangChain does not keep them).
 */
export function instrumentGeminiClient(
  client: GeminiModelClient,
  policy: RateLimitRetryPolicy = DEFAULT_RATE_LIMIT_RETRY,
): void {
  // an SDK that no longer has these calls is left as it is (no waits, no ids) rather than broken
  if (typeof client.generateContent !== 'function' || typeof client.generateContentStream !== 'function') return;
  const generate = (client.generateContent as Send<{ response: RawResponse }>).bind(client);
  client.generateContent = withRateLimitRetries(generate, policy, (result) => {
    currentModelCall().response({ id: result.response.responseId, model: result.response.modelVersion });
    return result;
  });

  type Streamed = { stream: AsyncGenerator<RawResponse>; response: Promise<unknown> };
  const stream = (client.generateContentStream as Send<Streamed>).bind(client);
  client.generateContentStream = withRateLimitRetries(stream, policy, (result) => {
    // taken now, in the model span's context: the chunks are read later, wherever
    const notes = currentModelCall();
    async function* observed(): AsyncGenerator<RawResponse> {
      for await (const chunk of result.stream) {
        notes.response({ id: chunk.responseId, model: chunk.modelVersion });
        yield chunk;
      }
    }
    return { ...result, stream: observed() };
  });
}
