import { createContextKey, type Context, type Span } from '@opentelemetry/api';

const AGENT_RUN = createContextKey('renovation-agent.gen_ai.agent_run');

/** What every GenAI span below an agent run repeats (its conversation and provider), and the run's span. */
export interface AgentRunContext {
  conversationId: string;
  provider: string;
  span: Span;
  /** Whether the run's span has its request settings (given, or from the run's first model call). */
  settingsNoted: boolean;
}

export function setAgentRun(ctx: Context, run: AgentRunContext): Context {
  return ctx.setValue(AGENT_RUN, run);
}

export function getAgentRun(ctx: Context): AgentRunContext | undefined {
  return ctx.getValue(AGENT_RUN) as AgentRunContext | undefined;
}
