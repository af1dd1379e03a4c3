import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes, isRetryableCode } from '../src/errors.ts';

describe('error codes', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(TL_[A-Z_]+)` \| (yes|no) \|/gm)].map((m) => ({
    code: m[1],
    retryable: m[2] === 'yes',
  }));

  it('are documented exactly as the code defines them, verdict included', () => {
    expect(rows.map((r) => r.code).sort()).toEqual(Object.values(errorCodes).sort());
    for (const row of rows) {
      expect(
        isRetryableCode(row.code as (typeof errorCodes)[keyof typeof errorCodes]),
        row.code,
      ).toBe(row.retryable);
    }
  });
});
