import { describe, expect, it } from 'vitest';
import { renovationReply } from './policy';

const tools = [
  {
    functionDeclarations: [
      { name: 'get_session_details' },
      { name: 'estimate_renovation_cost' },
      { name: 'update_session_budget' },
    ],
  },
];
const ask = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }], tools });

describe('the stand-in renovation policy', () => {
  it('when the user names a room and an area, then it asks for an estimate with parsed arguments', () => {
    expect(renovationReply(ask('How much for a 12,5 m² bathroom, premium please?'))).toMatchObject({
      functionCalls: [
        { name: 'estimate_renovation_cost', args: { room: 'bathroom', areaSqm: 12.5, finish: 'premium' } },
      ],
    });
  });

  it('when the user states a budget, then it updates the budget', () => {
    expect(renovationReply(ask('My budget is 25,000 euros'))).toMatchObject({
      functionCalls: [{ name: 'update_session_budget', args: { budgetCents: 2_500_000 } }],
    });
  });

  it('when the user says something else, then it reads the session first', () => {
    expect(renovationReply(ask('hello'))).toMatchObject({ functionCalls: [{ name: 'get_session_details', args: {} }] });
  });

  it('when a tool answered, then it replies in text from the result, with usage', () => {
    const reply = renovationReply({
      contents: [
        { role: 'user', parts: [{ text: '12 m2 kitchen' }] },
        { role: 'model', parts: [{ functionCall: { name: 'estimate_renovation_cost', args: {} } }] },
        {
          role: 'user',
          parts: [
            {
              functionResponse: {
                name: 'estimate_renovation_cost',
                response: {
                  result: JSON.stringify({
                    room: 'kitchen',
                    finish: 'standard',
                    areaSqm: 12,
                    perSqmCents: 150000,
                    fixedCents: 600000,
                    totalCents: 2400000,
                    budgetCents: 2000000,
                    withinBudget: false,
                  }),
                },
              },
            },
          ],
        },
      ],
      tools,
    });
    expect(reply).toMatchObject({
      text: expect.stringContaining('A 12 m² kitchen with a standard finish comes to about €24,000'),
      usage: { promptTokens: expect.any(Number) },
    });
    expect((reply as { text: string }).text).toContain('over budget');
  });

  it('when no tools are declared, then it answers in text', () => {
    expect(renovationReply({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] })).toMatchObject({
      text: expect.stringContaining('renovation'),
    });
  });
});

describe('the stand-in plan policy', () => {
  it('when asked for a renovation plan, then it reads the session and answers with a phased plan', () => {
    const ask = { contents: [{ role: 'user', parts: [{ text: 'Write a renovation plan for this project.' }] }], tools };
    expect(renovationReply(ask)).toMatchObject({ functionCalls: [{ name: 'get_session_details' }] });
    const reply = renovationReply({
      contents: [
        ...ask.contents,
        { role: 'model', parts: [{ functionCall: { name: 'get_session_details', args: {} } }] },
        {
          role: 'user',
          parts: [
            {
              functionResponse: {
                name: 'get_session_details',
                response: { result: JSON.stringify({ title: 'Loft', budgetCents: 3_000_000, messageCount: 0 }) },
              },
            },
          ],
        },
      ],
      tools,
    });
    expect((reply as { text: string }).text).toMatch(/^Renovation plan for "Loft"\n\n1\. Survey/);
  });
});
