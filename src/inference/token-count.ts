import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

/** BPE encodings Tokenline can count with when a server reports no token usage. */
export type TokenizerEncoding = 'cl100k_base' | 'o200k_base';

export type CountTokens = (text: string) => number;

const loading = new Map<TokenizerEncoding, Promise<CountTokens>>();

/**
 * A token counter for an encoding. The rank tables are megabytes of data, so each is loaded
 * on first use and once per process.
 */
export function tokenCounter(encoding: TokenizerEncoding): Promise<CountTokens> {
  let counter = loading.get(encoding);
  if (!counter) {
    counter = loadRanks(encoding).then((ranks) => {
      const tokenizer = new Tiktoken(ranks);
      // Special-token text such as '<|endoftext|>' inside a record is plain text to count,
      // not a control token to refuse: allow none, disallow none.
      return (text: string) => tokenizer.encode(text, [], []).length;
    });
    loading.set(encoding, counter);
  }

  return counter;
}

async function loadRanks(encoding: TokenizerEncoding): Promise<TiktokenBPE> {
  const module =
    encoding === 'o200k_base'
      ? await import('js-tiktoken/ranks/o200k_base')
      : await import('js-tiktoken/ranks/cl100k_base');

  return module.default;
}
