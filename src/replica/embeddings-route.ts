import * as z from 'zod';
import { type InferenceEndpoint, promptTokens } from './inference-route.ts';
import type { Prediction } from './naive-bayes.ts';
import type { ReplicaState } from './replica-state.ts';
import { tokenize } from './tokenize.ts';

/** Length of a vector unless the request asks for another. Default 256. */
export const defaultDimensions = 256;

const embeddingsRequest = z.object({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
  encoding_format: z.literal('float', { error: 'only float encoding is supported' }).optional(),
  dimensions: z.int().min(1).max(4096).optional(),
});

type EmbeddingsRequest = z.output<typeof embeddingsRequest>;

/** OpenAI's `POST /v1/embeddings`: one vector per input. */
export const embeddingsEndpoint: InferenceEndpoint<typeof embeddingsRequest> = {
  request: embeddingsRequest,
  read: (body) => ({ model: body.model, texts: inputTexts(body) }),
  respond: embeddingsResponse,
};

/**
 * The text's word tokens (the classifier's own) hashed into a fixed number of signed buckets
 * and scaled to unit length: texts sharing words point the same way, and cosine similarity is
 * a dot product, as with the vectors of a real embedding model.
 */
export function embed(text: string, dimensions = defaultDimensions): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const token of tokenize(text)) {
    const hash = fnv1a(token);
    const bucket = hash % dimensions;
    // A second bit of the hash picks the sign, so colliding tokens cancel out on average.
    vector[bucket] = (vector[bucket] ?? 0) + ((hash >>> 31) & 1 ? -1 : 1);
  }
  const norm = Math.hypot(...vector);

  return norm === 0 ? vector : vector.map((value) => value / norm);
}

function embeddingsResponse(
  predictions: Prediction[],
  body: EmbeddingsRequest,
  state: ReplicaState,
) {
  const tokens = promptTokens(predictions);

  return {
    object: 'list',
    model: state.options.modelName,
    data: inputTexts(body).map((text, index) => ({
      object: 'embedding',
      index,
      embedding: embed(text, body.dimensions),
    })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

function inputTexts(body: EmbeddingsRequest): string[] {
  return typeof body.input === 'string' ? [body.input] : body.input;
}

/** 32-bit FNV-1a over the string's UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }

  return hash >>> 0;
}
