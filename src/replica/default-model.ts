import { corpusLoadMs, splitCorpus } from './corpus.ts';
import { type NaiveBayes, train } from './naive-bayes.ts';

/** The model every replica serves unless told otherwise, and what it cost to build. */
export interface DefaultModel {
  model: NaiveBayes;
  trainingEmails: number;
  corpusLoadMs: number;
  trainMs: number;
}

let cached: DefaultModel | undefined;

/**
 * Naive Bayes trained on the training half of `splitCorpus()` (default seed), built once per
 * process. Loading and training take about a second together, so there is no on-disk cache:
 * rebuilding is cheaper than keeping a cache file in step with the code.
 */
export function defaultModel(): DefaultModel {
  if (cached) return cached;
  const { train: emails } = splitCorpus();
  const started = performance.now();
  const model = train(emails);
  cached = {
    model,
    trainingEmails: emails.length,
    corpusLoadMs: corpusLoadMs(),
    trainMs: performance.now() - started,
  };

  return cached;
}
