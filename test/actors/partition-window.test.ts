import { describe, expect, it } from 'vitest';
import { PartitionWindow } from '../../src/actors/partition-window.ts';
import { sourceRecord } from '../support/machine-ports.ts';

const rec = (offset: number, key?: string) => sourceRecord(offset, key, { text: 'x' });

describe('partition window', () => {
  it('lets records of different keys start together and holds back a repeated key', () => {
    const window = new PartitionWindow('key');
    expect(window.admit(rec(0, 'a'))).toBe('start');
    expect(window.admit(rec(1, 'b'))).toBe('start');
    expect(window.admit(rec(2, 'a'))).toBe('wait');
    expect(window.settle(0n)?.offset).toBe(2n);
  });

  it('treats records without a key as free of ordering', () => {
    const window = new PartitionWindow('key');
    expect(window.admit(rec(0))).toBe('start');
    expect(window.admit(rec(1))).toBe('start');
  });

  it('runs a whole partition one record at a time in partition ordering', () => {
    const window = new PartitionWindow('partition');
    expect(window.admit(rec(0, 'a'))).toBe('start');
    expect(window.admit(rec(1, 'b'))).toBe('wait');
    expect(window.settle(0n)?.offset).toBe(1n);
  });

  it('releases only the contiguous settled prefix, across offset gaps', () => {
    const window = new PartitionWindow('none');
    for (const offset of [3, 4, 7, 8]) window.admit(rec(offset));
    window.settle(4n);
    window.settle(7n);
    expect(window.releaseSettledPrefix()).toBeNull();
    window.settle(3n);
    expect(window.releaseSettledPrefix()).toBe(8n);
    window.settle(8n);
    expect(window.releaseSettledPrefix()).toBe(9n);
    expect(window.unsettled).toBe(0);
  });

  it('reports records fetched again as duplicates', () => {
    const window = new PartitionWindow('key');
    window.admit(rec(5, 'a'));
    expect(window.admit(rec(5, 'a'))).toBe('duplicate');
    expect(window.admit(rec(4, 'a'))).toBe('duplicate');
    expect(window.admit(rec(6, 'a'))).toBe('wait');
  });
});

describe('parked groups', () => {
  it('keeps later records of a parked key waiting, including ones admitted later', () => {
    const window = new PartitionWindow('key');
    window.admit(rec(0, 'a'));
    expect(window.admit(rec(1, 'a'))).toBe('wait');
    expect(window.settle(0n, true)).toBeUndefined();
    expect(window.admit(rec(2, 'a'))).toBe('wait');
    expect(window.unpark('a')?.offset).toBe(1n);
    expect(window.settle(1n)?.offset).toBe(2n);
  });

  it('keeps the commit before a parked dead letter until it is unparked', () => {
    const window = new PartitionWindow('key');
    window.admit(rec(0, 'a'));
    window.admit(rec(1, 'b'));
    window.admit(rec(2, 'a'));
    window.settle(0n, true);
    window.settle(1n);
    expect(window.releaseSettledPrefix()).toBeNull();
    expect(window.unsettled).toBe(2);
    expect(window.waitingForOperator).toBe(2);
    expect(window.unpark('a')?.offset).toBe(2n);
    expect(window.waitingForOperator).toBe(0);
    expect(window.releaseSettledPrefix()).toBe(2n);
    window.settle(2n);
    expect(window.releaseSettledPrefix()).toBe(3n);
  });

  it('parks a key with nothing waiting, so its next record waits too', () => {
    const window = new PartitionWindow('key');
    window.admit(rec(0, 'a'));
    window.settle(0n, true);
    expect(window.admit(rec(1, 'a'))).toBe('wait');
    expect(window.unpark('a')?.offset).toBe(1n);
    expect(window.unpark('a')).toBeUndefined();
  });
});
