import { describe, expect, it } from 'vitest';
import { replicaOptionsFromArgs, replicaUsage } from '../../src/replica/cli-options.ts';

describe('replica command line', () => {
  it('reads flags, falls back to REPLICA_* variables, and lets a flag win', () => {
    const options = replicaOptionsFromArgs(['--slots', '64', '--service-time-ms', '50'], {
      REPLICA_SLOTS: '2',
      REPLICA_PORT: '9001',
      REPLICA_MODEL_NAME: 'other',
    });
    expect(options).toEqual({ slots: 64, serviceTimeMs: 50, port: 9001, modelName: 'other' });
  });

  it('refuses a flag it does not know', () => {
    expect(() => replicaOptionsFromArgs(['--slot', '3'], {})).toThrow(/Unknown option/);
  });
});

describe('replica --help', () => {
  it('lists every flag with the variable behind it', () => {
    const usage = replicaUsage();
    for (const flag of ['--port N', '--slots N', '--service-time-ms N', '--queue-limit N']) {
      expect(usage).toContain(flag);
    }
    expect(usage).toMatch(/--model-name TEXT\s+REPLICA_MODEL_NAME/);
  });
});
