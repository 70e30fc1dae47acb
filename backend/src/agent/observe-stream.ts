interface StreamResult {
  stream: AsyncGenerator<unknown>;
  response: Promise<unknown>;
}
interface StreamingClient {
  generateContentStream(...args: unknown[]): Promise<StreamResult>;
}

/**
 * `@google/generative-ai`'s `generateContentStream` returns the chunks (`stream`) and a
 * promise of the whole reply (`response`) read from a tee of the same body. LangChain
 * (`@langchain/google-genai` 2.x, `_streamResponseChunks`) keeps only `stream`, so when
 * the body breaks (a client that disconnects aborts it) `response` rejects with nobody
 * listening: an unhandled rejection ("Error reading from the stream") per abort. The
 * failure itself reaches the agent through `stream`; this observes the duplicate.
 *
 * It wraps the model's `client`, private in LangChain's typings: should it move, this
 * does nothing and the process-level rejection handler logs as before. Returns whether
 * the client was found.
 */
export function observeAbandonedStreamResponses(model: object): boolean {
  const client = (model as { client?: Partial<StreamingClient> }).client;
  const original = client?.generateContentStream;
  if (client === undefined || typeof original !== 'function') return false;
  client.generateContentStream = async function observedGenerateContentStream(this: unknown, ...args: unknown[]) {
    const result = await original.apply(this, args);
    result.response.catch(() => undefined);
    return result;
  };
  return true;
}
