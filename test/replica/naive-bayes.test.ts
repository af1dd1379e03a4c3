import { describe, expect, it } from 'vitest';
import { type Email, loadCorpus, splitCorpus } from '../../src/replica/corpus.ts';
import { modelRevision, train } from '../../src/replica/naive-bayes.ts';

function scores(emails: readonly Email[], predict: (text: string) => string) {
  let truePositive = 0;
  let falsePositive = 0;
  let falseNegative = 0;
  for (const email of emails) {
    const spam = predict(email.text) === 'spam';
    if (spam && email.label === 'spam') truePositive += 1;
    else if (spam) falsePositive += 1;
    else if (email.label === 'spam') falseNegative += 1;
  }
  const correct = emails.length - falsePositive - falseNegative;

  return {
    accuracy: correct / emails.length,
    precision: truePositive / (truePositive + falsePositive),
    recall: truePositive / (truePositive + falseNegative),
  };
}

describe('the SpamAssassin corpus', () => {
  it('holds 6,046 emails with unique ids made of [a-z0-9-] only', () => {
    const corpus = loadCorpus();
    expect(corpus).toHaveLength(6046);
    expect(new Set(corpus.map((email) => email.eventId)).size).toBe(6046);
    expect(corpus.every((email) => /^sa-[a-z0-9-]+$/.test(email.eventId))).toBe(true);
    expect(corpus.filter((email) => email.label === 'spam')).toHaveLength(1896);
  });

  it('splits the same way for the same seed, and differently for another', () => {
    const ids = (emails: Email[]) => emails.map((email) => email.eventId);
    expect(ids(splitCorpus().heldOut)).toEqual(ids(splitCorpus(20261204, 0.3).heldOut));
    expect(ids(splitCorpus(7).heldOut)).not.toEqual(ids(splitCorpus().heldOut));
  });

  it('never puts a training email in the held-out split', () => {
    const { train: trainSet, heldOut } = splitCorpus();
    const trainIds = new Set(trainSet.map((email) => email.eventId));
    expect(heldOut.filter((email) => trainIds.has(email.eventId))).toEqual([]);
    expect(trainSet.length + heldOut.length).toBe(6046);
    expect(heldOut.length).toBe(1814);
  });

  it('keeps the spam share in each split and mixes labels in any prefix', () => {
    const { train: trainSet, heldOut } = splitCorpus();
    const spamShare = (emails: Email[]) =>
      emails.filter((email) => email.label === 'spam').length / emails.length;
    expect(spamShare(heldOut)).toBeCloseTo(spamShare(trainSet), 2);
    expect(spamShare(heldOut.slice(0, 100))).toBeGreaterThan(0.15);
  });
});

describe('the Naive Bayes spam classifier', () => {
  const { train: trainSet, heldOut } = splitCorpus();
  const model = train(trainSet);

  it('reaches at least 0.95 accuracy on the whole held-out split', () => {
    const result = scores(heldOut, (text) => model.predict(text).label);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.precision).toBeGreaterThanOrEqual(0.9);
    expect(result.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('answers class probabilities that sum to one, and counts the tokens it read', () => {
    const prediction = model.predict('Subject: WIN money now\n\nclick here to claim your prize');
    expect(prediction.label).toBe('spam');
    expect(prediction.probs.spam + prediction.probs.ham).toBeCloseTo(1, 12);
    expect(prediction.tokens).toBe(9);
  });

  it('has a short revision that the same training emails always reproduce', () => {
    expect(model.revision).toMatch(/^[0-9a-f]{12}$/);
    expect(train(splitCorpus().train).revision).toBe(model.revision);
    expect(modelRevision(trainSet.map((email) => email.eventId).reverse())).toBe(model.revision);
    expect(modelRevision(splitCorpus(7).train.map((email) => email.eventId))).not.toBe(
      model.revision,
    );
  });
});
