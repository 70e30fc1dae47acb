import { io, type Socket } from 'socket.io-client';

export interface ChatReply {
  chunks: Array<{ sessionId: string; messageId: string; delta: string }>;
  message?: {
    sessionId: string;
    messageId: string;
    content: string;
    usage: { inputTokens: number; outputTokens: number };
  };
  error?: { sessionId: string | null; code: string; message: string };
}

export interface ChatClient {
  socket: Socket;
  /** Emits `chat:user_message` and resolves with its ack. */
  send(payload: unknown): Promise<{ ok: boolean; messageId?: string; error?: { code: string; message: string } }>;
  /** Resolves when the next reply ends (`chat:assistant_message` or `chat:error`), with the chunks before it. */
  nextReply(timeoutMs?: number): Promise<ChatReply>;
  close(): void;
}

/** A real socket.io-client connection; rejects with the server's `connect_error` message. */
export async function connectChat(
  url: string,
  {
    token,
    headers,
    auth = {},
    transports = ['websocket'],
  }: { token?: string; headers?: Record<string, string>; auth?: Record<string, unknown>; transports?: string[] } = {},
): Promise<ChatClient> {
  const socket = io(url, {
    auth: token === undefined ? auth : { token, ...auth },
    ...(headers ? { extraHeaders: headers } : {}),
    transports,
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });

  // replies are queued as they end, so one that ends before the test asks is not lost
  let chunks: ChatReply['chunks'] = [];
  const replies: ChatReply[] = [];
  const waiting: Array<(reply: ChatReply) => void> = [];
  const finish = (reply: Omit<ChatReply, 'chunks'>) => {
    const result = { chunks, ...reply };
    chunks = [];
    const waiter = waiting.shift();
    if (waiter) waiter(result);
    else replies.push(result);
  };
  socket.on('chat:assistant_chunk', (chunk) => chunks.push(chunk));
  socket.on('chat:assistant_message', (message) => finish({ message }));
  socket.on('chat:error', (error) => finish({ error }));

  return {
    socket,
    send: (payload) => socket.timeout(15_000).emitWithAck('chat:user_message', payload),
    nextReply(timeoutMs = 20_000) {
      const queued = replies.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(wake), 1);
          reject(new Error(`no reply within ${timeoutMs} ms`));
        }, timeoutMs);
        const wake = (reply: ChatReply) => {
          clearTimeout(timer);
          resolve(reply);
        };
        waiting.push(wake);
      });
    },
    close: () => socket.close(),
  };
}
