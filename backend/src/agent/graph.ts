import { SystemMessage } from '@langchain/core/messages';
import type { RunnableConfig } from '@langchain/core/runnables';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode, toolsCondition } from '@langchain/langgraph/prebuilt';
import type { ChatModel } from './model';
import { runInTraceOf } from '../utils/ai-tracing';
import { SYSTEM_PROMPT } from './prompts';

type State = typeof MessagesAnnotation.State;

/** A node that runs inside its own `langgraph.node` span (when tracing is on). */
function inNodeSpan(fn: (state: State, config: RunnableConfig) => Promise<Partial<State>>) {
  return (state: State, config: RunnableConfig) => runInTraceOf(config, () => fn(state, config));
}

/**
 * The renovation agent: a model node with the tools bound, a tool node, and the usual
 * edge (tool calls → tools → back to the model; otherwise done).
 */
export function buildAgentGraph({
  model,
  tools,
  systemPrompt = SYSTEM_PROMPT,
}: {
  model: ChatModel;
  tools: StructuredToolInterface[];
  systemPrompt?: string;
}) {
  const modelWithTools = model.bindTools(tools);

  async function callModel(state: State, config: RunnableConfig): Promise<Partial<State>> {
    const response = await modelWithTools.invoke([new SystemMessage(systemPrompt), ...state.messages], config);
    return { messages: [response] };
  }

  return new StateGraph(MessagesAnnotation)
    .addNode('agent', inNodeSpan(callModel))
    .addNode('tools', new ToolNode(tools))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', toolsCondition, ['tools', END])
    .addEdge('tools', 'agent')
    .compile();
}

export type AgentGraph = ReturnType<typeof buildAgentGraph>;
