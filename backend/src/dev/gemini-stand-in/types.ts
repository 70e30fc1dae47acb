/** What the stand-in answers to one request, in order of a script or from its renovation policy. */
export type StandInTurn =
  | { text: string; chunks?: string[]; usage?: StandInUsage; finishReason?: string; delayMs?: number }
  | { functionCalls: Array<{ name: string; args: Record<string, unknown> }>; usage?: StandInUsage }
  | { status: number; message?: string; grpcStatus?: string; retryAfterSeconds?: number };

export interface StandInUsage {
  promptTokens: number;
  candidatesTokens: number;
  thoughtsTokens?: number;
}

/** The part of a Gemini `generateContent` request body the stand-in reads. */
export interface GeminiRequestBody {
  contents?: Array<{ role?: string; parts?: GeminiPart[] }>;
  tools?: Array<{ functionDeclarations?: Array<{ name: string }> }>;
  systemInstruction?: { parts?: GeminiPart[] };
  generationConfig?: Record<string, unknown>;
}

export interface GeminiPart {
  text?: string;
  functionCall?: { name: string; args?: Record<string, unknown> };
  functionResponse?: { name: string; response?: unknown };
}

export interface RecordedRequest {
  method: string;
  path: string;
  model: string;
  stream: boolean;
  headers: Record<string, string | string[] | undefined>;
  body: GeminiRequestBody | undefined;
  /** What the stand-in answered with, when it answered (not for errors). */
  responseId?: string;
  modelVersion?: string;
}
