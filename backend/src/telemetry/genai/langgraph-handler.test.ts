import { HumanMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildAgentGraph } from '../../agent/graph';
import { createChatModel } from '../../agent/model';
import { startGeminiStandIn, type GeminiStandIn } from '../../dev/gemini-stand-in/server';
import { LangGraphTracingHandler, runInTraceOf, traceAgentRun } from '../../utils/ai-tracing';
import { runRegistry } from './run-registry';

describe('LangGraph tracing callbacks (in process, real graph, stand-in over HTTP)', () => {
  const exporter = new InMemorySpanExporter();
  let gemini: GeminiStandIn;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    gemini = await startGeminiStandIn({ chunkDelayMs: 0 });
  });

  afterAll(async () => {
    await gemini.close();
    trace.disable();
    context.disable();
  });

  function graphWithProbeTool(seen: string[]) {
    const probe = tool(
      (input: { room: string }, config) =>
        runInTraceOf(config, async () => {
          seen.push(trace.getActiveSpan() ? (trace.getActiveSpan() as unknown as { name: string }).name : 'none');
          return JSON.stringify({ room: input.room, ok: true });
        }),
      { name: 'probe_room', description: 'probe', schema: z.object({ room: z.string() }) },
    );
    const model = createChatModel({
      model: 'gemini-2.5-flash',
      temperature: 0,
      maxOutputTokens: 64,
      apiKey: 'k',
      baseUrl: gemini.baseUrl,
      maxRetries: 0,
      captureContent: false,
    });
    return buildAgentGraph({ model, tools: [probe] });
  }

  async function run(callbacks: unknown[], via: 'stream' | 'streamEvents' = 'stream') {
    exporter.reset();
    const seen: string[] = [];
    const graph = graphWithProbeTool(seen);
    gemini.enqueue(
      {
        functionCalls: [{ name: 'probe_room', args: { room: 'attic' } }],
        usage: { promptTokens: 10, candidatesTokens: 2 },
      },
      { text: 'Done.', usage: { promptTokens: 20, candidatesTokens: 3 } },
    );
    await traceAgentRun(
      { agentName: 'test', conversationId: 'conv-1', provider: 'gcp.gemini', model: 'gemini-2.5-flash' },
      async () => {
        const input = { messages: [new HumanMessage('go')] };
        const stream =
          via === 'stream'
            ? await graph.stream(input, { streamMode: 'updates', callbacks: callbacks as never })
            : graph.streamEvents(input, { version: 'v2', callbacks: callbacks as never });
        for await (const _ of stream) {
          // drain
        }
      },
    );
    const spans = exporter.getFinishedSpans();
    return { spans, seen, names: spans.map((span) => span.name).sort() };
  }

  it('when the handler is registered once, then there is one span per node step and tool, and the tool body runs inside its tool span', async () => {
    const { names, seen, spans } = await run([new LangGraphTracingHandler()]);
    expect(names).toEqual([
      'chat gemini-2.5-flash',
      'chat gemini-2.5-flash',
      'execute_tool probe_room',
      'invoke_agent test',
      'langgraph.node agent',
      'langgraph.node agent',
      'langgraph.node tools',
    ]);
    expect(seen).toEqual(['execute_tool probe_room']);
    for (const span of spans) expect(span.attributes['gen_ai.conversation.id']).toBe('conv-1');
    expect(runRegistry.size).toBe(0);
  });

  it('when the handler is registered twice (two instances, and one instance twice), then spans and usage are not doubled', async () => {
    const handler = new LangGraphTracingHandler();
    const { names, spans } = await run([handler, new LangGraphTracingHandler(), handler]);
    expect(names.filter((name) => name.startsWith('langgraph.node'))).toHaveLength(3);
    expect(names.filter((name) => name.startsWith('execute_tool'))).toHaveLength(1);
    const usage = spans
      .filter((span) => span.name === 'chat gemini-2.5-flash')
      .map((span) => span.attributes['gen_ai.usage.input_tokens']);
    expect(usage).toEqual([10, 20]);
    expect(runRegistry.size).toBe(0);
  });

  it('when the graph is run with streamEvents instead of stream, then it is traced the same way', async () => {
    const { names, seen, spans } = await run([new LangGraphTracingHandler()], 'streamEvents');
    expect(names).toEqual([
      'chat gemini-2.5-flash',
      'chat gemini-2.5-flash',
      'execute_tool probe_room',
      'invoke_agent test',
      'langgraph.node agent',
      'langgraph.node agent',
      'langgraph.node tools',
    ]);
    expect(seen).toEqual(['execute_tool probe_room']);
    const agent = spans.find((span) => span.name === 'invoke_agent test')!;
    for (const span of spans.filter((other) => other !== agent && other.name.startsWith('langgraph.node'))) {
      expect(span.parentSpanContext?.spanId).toBe(agent.spanContext().spanId);
    }
    expect(runRegistry.size).toBe(0);
  });
});
