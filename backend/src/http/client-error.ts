import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError, type ErrorCode } from '../errors/app-error';
import type { Logger } from '../utils/logger';

// Node's parser codes (llhttp) for what it cannot take, and the answer Node itself would give.
const CODES: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'PAYLOAD_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
};

/**
 * The HTTP server's `clientError` handler: a request Node refuses before the app sees it
 * (headers over Node's 16 KiB, malformed HTTP, too slow to arrive) gets the same
 * `{error:{code,message}}` body as every other error, instead of Node's empty answer.
 */
export function answerClientError({ logger }: { logger: Logger }) {
  return function onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const code = CODES[error.code ?? ''] ?? 'VALIDATION_FAILED';
    const message = code === 'VALIDATION_FAILED' ? 'the request is not valid HTTP' : undefined;
    const appError = new AppError(code, message, { cause: error });
    logger.debug({ code, parserCode: error.code }, 'malformed HTTP request refused');
    const body = JSON.stringify(appError.toBody());
    socket.end(
      `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status] ?? ''}\r\n` +
        'content-type: application/json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };
}
