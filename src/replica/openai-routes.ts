import * as z from 'zod';
import { type InferenceEndpoint, promptTokens, responseIdentity } from './inference-route.ts';
import type { Prediction } from './naive-bayes.ts';
import type { ReplicaState } from './replica-state.ts';

const contentPart = z.object({ type: z.string(), text: z.string().optional() });

const chatRequest = z.object({
  model: z.string().optional(),
  messages: z
    .array(z.object({ role: z.string(), content: z.union([z.string(), z.array(contentPart)]) }))
    .min(1),
  stream: z.literal(false, { error: 'streaming is not supported by this replica' }).optional(),
});

const completionRequest = z.object({
  model: z.string().optional(),
  prompt: z.union([z.string(), z.array(z.string()).min(1)]),
  stream: z.literal(false, { error: 'streaming is not supported by this replica' }).optional(),
});

/** `created` of the model object: when this process loaded the model. */
const startedAt = Math.floor(Date.now() / 1000);

/** The label is the whole completion: one token, and generation stops there. */
const completionTokensPerChoice = 1;

/** OpenAI's `POST /v1/chat/completions`: the last user message is the text to classify. */
export const chatEndpoint: InferenceEndpoint<typeof chatRequest> = {
  request: chatRequest,
  read: (body) => ({ model: body.model, texts: [messageText(lastUserMessage(body.messages))] }),
  respond: (predictions, _, state) => ({
    ...responseIdentity('chatcmpl'),
    object: 'chat.completion',
    ...modelFields(state),
    choices: predictions.map((prediction, index) => ({
      index,
      message: { role: 'assistant', content: prediction.label },
      logprobs: null,
      finish_reason: 'stop',
    })),
    usage: usage(predictions),
  }),
};

/** OpenAI's legacy `POST /v1/completions`: one choice per prompt. */
export const completionEndpoint: InferenceEndpoint<typeof completionRequest> = {
  request: completionRequest,
  read: (body) => ({
    model: body.model,
    texts: typeof body.prompt === 'string' ? [body.prompt] : body.prompt,
  }),
  respond: (predictions, _, state) => ({
    ...responseIdentity('cmpl'),
    object: 'text_completion',
    ...modelFields(state),
    choices: predictions.map((prediction, index) => ({
      index,
      text: prediction.label,
      logprobs: null,
      finish_reason: 'stop',
    })),
    usage: usage(predictions),
  }),
};

/** OpenAI's `GET /v1/models`, with the model's revision as an extra field. */
export function modelList(state: ReplicaState) {
  return {
    object: 'list',
    data: [
      {
        id: state.options.modelName,
        object: 'model',
        created: startedAt,
        owned_by: 'tokenline',
        revision: state.model.revision,
      },
    ],
  };
}

/** `system_fingerprint` is OpenAI's field for "which backend configuration answered". */
function modelFields(state: ReplicaState) {
  const revision = state.model.revision;

  return { model: state.options.modelName, system_fingerprint: revision, revision };
}

function usage(predictions: Prediction[]) {
  const prompt = promptTokens(predictions);
  const completion = predictions.length * completionTokensPerChoice;

  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
}

type ChatMessage = z.output<typeof chatRequest>['messages'][number];

/** A system prompt says how to answer, not what to classify, so only the user's turn counts. */
function lastUserMessage(messages: ChatMessage[]): ChatMessage {
  const user = messages.filter((message) => message.role === 'user');

  return (user.at(-1) ?? messages.at(-1)) as ChatMessage;
}

function messageText(message: ChatMessage): string {
  if (typeof message.content === 'string') return message.content;

  return message.content.map((part) => part.text ?? '').join('\n');
}
