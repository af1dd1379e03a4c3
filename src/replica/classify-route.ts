import * as z from 'zod';
import { type InferenceEndpoint, promptTokens, responseIdentity } from './inference-route.ts';
import type { Prediction } from './naive-bayes.ts';
import type { ReplicaState } from './replica-state.ts';

/** Class order of `probs`, and so of `num_classes`: index 0 is ham, index 1 is spam. */
export const classLabels = ['ham', 'spam'] as const;

const classifyRequest = z.object({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
});

type ClassifyRequest = z.output<typeof classifyRequest>;

/** vLLM's `POST /classify`: one label and class probabilities per input. */
export const classifyEndpoint: InferenceEndpoint<typeof classifyRequest> = {
  request: classifyRequest,
  read: (body) => ({
    model: body.model,
    texts: typeof body.input === 'string' ? [body.input] : body.input,
  }),
  respond: classifyResponse,
};

function classifyResponse(predictions: Prediction[], _: ClassifyRequest, state: ReplicaState) {
  const tokens = promptTokens(predictions);

  return {
    ...responseIdentity('classify'),
    object: 'list',
    model: state.options.modelName,
    // Not in vLLM's shape: lets the client stamp results with the model revision.
    revision: state.model.revision,
    data: predictions.map((prediction, index) => ({
      index,
      label: prediction.label,
      probs: classLabels.map((label) => prediction.probs[label]),
      num_classes: classLabels.length,
    })),
    usage: { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0 },
  };
}
