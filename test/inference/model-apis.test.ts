import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { modelApis, renderPrompt } from '../../src/inference/model-apis.ts';
import { tokenCounter } from '../../src/inference/token-count.ts';

const model = parseConfig({ model: { promptTemplate: 'Q: {{text}}\nA:', maxTokens: 4 } }).model;

describe('model APIs', () => {
  it('puts the text into every {{text}} of the template literally', () => {
    expect(renderPrompt('{{text}} / {{text}}', 'a $& b')).toBe('a $& b / a $& b');
  });

  it('builds each request in its own API shape', () => {
    expect(modelApis.classify.request('hi', 'm', model)).toEqual({
      path: '/classify',
      body: { model: 'm', input: 'hi' },
      prompt: 'hi',
    });
    expect(modelApis.chat.request('hi', 'm', model).body).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'Q: hi\nA:' }],
      max_tokens: 4,
      temperature: 0,
    });
    expect(modelApis.completions.request('hi', 'm', model)).toMatchObject({
      path: '/v1/completions',
      body: { model: 'm', prompt: 'Q: hi\nA:', max_tokens: 4 },
    });
    expect(modelApis.embeddings.request('hi', 'm', model)).toMatchObject({
      path: '/v1/embeddings',
      body: { model: 'm', input: 'hi', encoding_format: 'float' },
    });
  });

  it('reads usage where the server gave it and leaves the rest to be counted', () => {
    const reply = modelApis.completions.read({
      choices: [{ text: ' Spam\n' }],
      usage: { prompt_tokens: 7 },
    });
    expect(reply).toEqual({
      output: { label: 'spam' },
      promptTokens: 7,
      completionTokens: undefined,
      completion: ' Spam\n',
    });
  });

  it('refuses answers without the part it needs', () => {
    expect(() => modelApis.chat.read({ choices: [] })).toThrow(/no message content/);
    expect(() => modelApis.embeddings.read({ data: [{ embedding: ['x'] }] })).toThrow(/vector/);
    expect(() => modelApis.classify.read({})).toThrow(/no label/);
  });
});

describe('token counting', () => {
  it('counts special-token text in a record as plain text', async () => {
    const count = await tokenCounter('cl100k_base');
    expect(count('hello world')).toBe(2);
    expect(count('<|endoftext|>')).toBeGreaterThan(1);
  });
});
