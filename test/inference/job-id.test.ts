import { describe, expect, it } from 'vitest';
import { jobIdFor } from '../../src/inference/job-id.ts';
import { parseRetryAfter } from '../../src/inference/replica-client.ts';

describe('inference job ids', () => {
  it('are stable for the same event and revision', () => {
    expect(jobIdFor('sa-spam-2-00017', 'nb-1a2b')).toBe(jobIdFor('sa-spam-2-00017', 'nb-1a2b'));
  });

  it('never contain a colon and differ by revision', () => {
    const id = jobIdFor('orders:42:created', 'r1');
    expect(id).not.toContain(':');
    expect(id).not.toBe(jobIdFor('orders:42:created', 'r2'));
    expect(jobIdFor('42', 'r1')).not.toMatch(/^\d+$/);
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:05 GMT', 1_000)).toBe(4_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
