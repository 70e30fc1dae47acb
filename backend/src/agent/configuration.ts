/** What one agent needs to know to run; built from the environment in the entry file. */
export interface AgentConfiguration {
  /** Shown in traces as gen_ai.agent.name. */
  name: string;
  /** Shown in traces as gen_ai.agent.description. */
  description: string;
  model: string;
  /** LangGraph recursion limit: most model and tool steps per user message. */
  maxSteps: number;
  /** Earlier messages of the session given to the model. */
  historyLimit: number;
}

export const DEFAULT_AGENT: Omit<AgentConfiguration, 'model'> = {
  name: 'renovation-assistant',
  description:
    'Helps homeowners scope, budget and sequence the renovation of one project, ' +
    'with cost estimates from the price table.',
  maxSteps: 12,
  historyLimit: 40,
};
