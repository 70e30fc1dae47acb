import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import {
  GEN_AI_PROVIDER_GEMINI,
  LangGraphTracingHandler,
  addUsage,
  traceAgentRun,
  type TokenUsage,
} from '../utils/ai-tracing';
import { usageFromLangChain } from './model';
import type { AgentConfiguration } from './configuration';
import type { AgentGraph } from './graph';
import { estimateCostUsd } from './pricing';

export interface AgentTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface AgentReply {
  content: string;
  model: string;
  /** Summed over every model call the reply took. */
  usage: TokenUsage;
  costUsd: number | undefined;
}

export interface Agent {
  reply(input: {
    sessionId: string;
    userId: string;
    history: AgentTurn[];
    signal?: AbortSignal;
    onDelta?: (delta: string) => void;
  }): Promise<AgentReply>;
}

function toMessages(history: AgentTurn[]): BaseMessage[] {
  return history.map((turn) => (turn.role === 'user' ? new HumanMessage(turn.content) : new AIMessage(turn.content)));
}

/**
 * Runs the graph for one user message: streams the model's text out as it comes
 * (`streamMode: messages`), sums the usage of every model call (`updates`), all inside
 * one `invoke_agent {agent}` span with node, model and tool spans below it.
 */
export function createAgent({
  graph,
  config,
  captureContent,
}: {
  graph: AgentGraph;
  config: AgentConfiguration;
  captureContent: boolean;
}): Agent {
  const tracing = new LangGraphTracingHandler({ captureContent });

  return {
    reply({ sessionId, userId, history, signal, onDelta }) {
      const run = {
        agentName: config.name,
        agentDescription: config.description,
        conversationId: sessionId,
        provider: GEN_AI_PROVIDER_GEMINI,
        model: config.model,
        userId,
        signal,
      };
      return traceAgentRun(run, async () => {
        const stream = await graph.stream(
          { messages: toMessages(history) },
          {
            streamMode: ['messages', 'updates'],
            callbacks: [tracing],
            configurable: { sessionId, userId },
            recursionLimit: config.maxSteps,
            ...(signal ? { signal } : {}),
          },
        );
        let content = '';
        let usage: TokenUsage = { inputTokens: 0, outputTokens: 0, reasoningTokens: 0 };
        for await (const [mode, payload] of stream as AsyncIterable<[string, unknown]>) {
          if (mode === 'messages') {
            const [message, metadata] = payload as [BaseMessage, { langgraph_node?: string }];
            if (
              metadata.langgraph_node === 'agent' &&
              typeof message.content === 'string' &&
              message.content.length > 0
            ) {
              content += message.content;
              onDelta?.(message.content);
            }
          } else if (mode === 'updates') {
            const update = (payload as { agent?: { messages?: BaseMessage[] } }).agent;
            for (const message of update?.messages ?? []) {
              const used = usageFromLangChain(
                (message as { usage_metadata?: Parameters<typeof usageFromLangChain>[0] }).usage_metadata,
              );
              if (used !== undefined) usage = addUsage(usage, used);
            }
          }
        }
        if (content.trim().length === 0)
          throw Object.assign(new Error('the model returned no text'), { name: 'EmptyReplyError' });
        return { content, model: config.model, usage, costUsd: estimateCostUsd(config.model, usage)?.amount };
      });
    },
  };
}
