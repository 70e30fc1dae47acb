import { inject } from 'vitest';
import { startGeminiStandIn, type GeminiStandIn } from '../src/dev/gemini-stand-in/server';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver';
import { api, startServer, testEnv, tokenFor, uniqueUser, type ServerProcess } from './server-process';

/** A test OTLP receiver, a scripted Gemini stand-in, and the real server wired to both. */
export interface Stack {
  receiver: OtlpReceiver;
  gemini: GeminiStandIn;
  server: ServerProcess;
  stop(): Promise<void>;
}

export async function startStack(env: Record<string, string | undefined> = {}): Promise<Stack> {
  const receiver = await startOtlpReceiver();
  const gemini = await startGeminiStandIn({ chunkDelayMs: 0 });
  const server = await startServer({
    env: {
      ...testEnv(inject('databaseUrl'), receiver.url),
      GEMINI_BASE_URL: gemini.baseUrl,
      GEMINI_API_KEY: 'test-key-not-secret',
      GEMINI_MAX_RETRIES: '0',
      ...env,
    },
  });
  return {
    receiver,
    gemini,
    server,
    async stop() {
      await server.stop();
      await gemini.close();
      await receiver.close();
    },
  };
}

/** A new user, their token, and one renovation session of theirs. */
export async function newUserSession(server: ServerProcess, { title = 'Kitchen refit', budgetCents = 2_000_000 } = {}) {
  const userId = uniqueUser();
  const token = await tokenFor(userId);
  const { body } = await api(server, 'POST', '/api/sessions', { token, body: { title, budgetCents } });
  return { userId, token, sessionId: body.id as string };
}
