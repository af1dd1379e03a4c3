import type { Config } from '../config.ts';
import { errorCodes, TokenlineError } from '../errors.ts';

type ModelConfig = Config['model'];
export type ModelApiName = ModelConfig['api'];

/** One call to a model server: where it goes, what it sends, and the text the model reads. */
export interface ApiRequest {
  path: string;
  body: unknown;
  /** Counted as prompt tokens when the server reports none. */
  prompt: string;
}

/** What a server answered, with token usage as far as the server reported it. */
export interface ApiReply {
  output: unknown;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  /** Generated text, counted as completion tokens when the server reports none. */
  completion: string;
}

/** How a record's text becomes a request of one API, and its response the output value. */
export interface ModelApi {
  request(text: string, modelName: string, model: ModelConfig): ApiRequest;
  read(json: unknown): ApiReply;
}

interface Usage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
}

/** vLLM's `POST /classify`: a label and class probabilities per input. */
const classify: ModelApi = {
  request: (text, model) => ({ path: '/classify', body: { model, input: text }, prompt: text }),
  read: (json) => {
    const body = json as { data?: Array<{ label?: unknown; probs?: unknown }>; usage?: Usage };
    const first = body?.data?.[0];
    if (!first || typeof first.label !== 'string')
      throw badResponse('classify response has no label');

    return {
      output: { label: first.label, probs: first.probs },
      promptTokens: count(body.usage?.prompt_tokens),
      completionTokens: 0,
      completion: '',
    };
  },
};

/** OpenAI's `POST /v1/chat/completions`: the prompt as one user message. */
const chat: ModelApi = {
  request: (text, model, config) => {
    const prompt = renderPrompt(config.promptTemplate, text);
    const body = {
      model,
      messages: [{ role: 'user', content: prompt }],
      max_tokens: config.maxTokens,
      temperature: 0,
    };

    return { path: '/v1/chat/completions', body, prompt };
  },
  read: (json) => {
    const body = json as { choices?: Array<{ message?: { content?: unknown } }>; usage?: Usage };
    const content = body?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw badResponse('chat response has no message content');

    return generated(content, body.usage);
  },
};

/** OpenAI's legacy `POST /v1/completions`: the prompt as plain text. */
const completions: ModelApi = {
  request: (text, model, config) => {
    const prompt = renderPrompt(config.promptTemplate, text);
    const body = { model, prompt, max_tokens: config.maxTokens, temperature: 0 };

    return { path: '/v1/completions', body, prompt };
  },
  read: (json) => {
    const body = json as { choices?: Array<{ text?: unknown }>; usage?: Usage };
    const text = body?.choices?.[0]?.text;
    if (typeof text !== 'string') throw badResponse('completion response has no text');

    return generated(text, body.usage);
  },
};

/** OpenAI's `POST /v1/embeddings`: one vector for the record's text. */
const embeddings: ModelApi = {
  request: (text, model) => ({
    path: '/v1/embeddings',
    body: { model, input: text, encoding_format: 'float' },
    prompt: text,
  }),
  read: (json) => {
    const body = json as { data?: Array<{ embedding?: unknown }>; usage?: Usage };
    const embedding = body?.data?.[0]?.embedding;
    if (!Array.isArray(embedding) || !embedding.every((x) => typeof x === 'number')) {
      throw badResponse('embedding response has no vector of numbers');
    }

    return {
      output: { embedding },
      promptTokens: count(body.usage?.prompt_tokens),
      completionTokens: 0,
      completion: '',
    };
  },
};

export const modelApis: Readonly<Record<ModelApiName, ModelApi>> = {
  classify,
  chat,
  completions,
  embeddings,
};

/** Puts the record's text wherever the template says `{{text}}`, taken literally. */
export function renderPrompt(template: string, text: string): string {
  return template.replaceAll('{{text}}', () => text);
}

/** A generated answer is the label of the spam task: trimmed and lower case. */
function generated(text: string, usage: Usage | undefined): ApiReply {
  return {
    output: { label: text.trim().toLowerCase() },
    promptTokens: count(usage?.prompt_tokens),
    completionTokens: count(usage?.completion_tokens),
    completion: text,
  };
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function badResponse(message: string): TokenlineError {
  return new TokenlineError(errorCodes.badResponse, message);
}
