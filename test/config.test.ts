import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';

describe('configuration', () => {
  it('fills every default from an empty object', () => {
    const config = parseConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.topics.deadLetter).toBe('emails.dlq');
    expect(config.partition.ordering).toBe('key');
  });

  it('stops with a message naming the field that is wrong', () => {
    expect(() => parseConfig({ partition: { window: 0 } })).toThrow(/partition\.window/);
    expect(() => parseConfig({ replicas: [{ url: 'nope' }] })).toThrow(/replicas\.0\.url/);
    expect(() => parseConfig({ queue: { highWater: 10, lowWater: 20 } })).toThrow(
      /queue\.lowWater/,
    );
    expect(() => parseConfig({ kafka: { brokers: ['localhost'] } })).toThrow(ConfigError);
    expect(() =>
      parseConfig({ partition: { ordering: 'partition', onDeadLetter: 'park' } }),
    ).toThrow(/partition\.onDeadLetter/);
    expect(() => parseConfig({ replicas: [{ url: 'http://a:1', headroom: -1 }] })).toThrow(
      /replicas\.0\.headroom/,
    );
  });

  it('reads TOKENLINE_* variables over the defaults', () => {
    const config = loadConfig({
      TOKENLINE_KAFKA_BROKERS: '10.0.0.1:9092, 10.0.0.2:9092',
      TOKENLINE_INPUT_TOPIC: 'tickets',
      TOKENLINE_HTTP_PORT: '9999',
    });
    expect(config.kafka.brokers).toEqual(['10.0.0.1:9092', '10.0.0.2:9092']);
    expect(config.topics.input).toBe('tickets');
    expect(config.topics.output).toBe('tickets.results');
    expect(config.http.port).toBe(9999);
  });

  it('names TOKENLINE_CONFIG when the file cannot be read', () => {
    expect(() => loadConfig({ TOKENLINE_CONFIG: '/nonexistent/tokenline.json' })).toThrow(
      /TOKENLINE_CONFIG/,
    );
  });
});

describe('configuration mistakes a user makes', () => {
  it('names a misspelled field instead of silently using the default', () => {
    expect(() => parseConfig({ kafak: { brokers: ['127.0.0.1:1'] } })).toThrow(
      /invalid configuration: kafak: unknown field/,
    );
    expect(() => parseConfig({ partition: { windw: 10 } })).toThrow(
      /partition\.windw: unknown field/,
    );
  });

  it('names the broker entry whose port is out of range', () => {
    expect(() =>
      parseConfig({ kafka: { brokers: ['127.0.0.1:9092', '127.0.0.1:999999'] } }),
    ).toThrow(
      /invalid configuration: kafka\.brokers\.1: expected host:port with a port from 1 to 65535/,
    );
    expect(() => parseConfig({ kafka: { brokers: ['kafka-1:0'] } })).toThrow(/kafka\.brokers\.0/);
    expect(parseConfig({ kafka: { brokers: ['kafka-1:65535'] } }).kafka.brokers).toEqual([
      'kafka-1:65535',
    ]);
  });

  it('wants heartbeats more often than the session times out', () => {
    expect(() =>
      parseConfig({ kafka: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 10_000 } }),
    ).toThrow(
      /invalid configuration: kafka\.heartbeatIntervalMs: must be below kafka\.sessionTimeoutMs/,
    );
  });

  it('refuses a replica weight, which would not change who takes the work', () => {
    // Workers pull jobs at each replica's own slots, so a replica's share follows its slots.
    expect(() => parseConfig({ replicas: [{ url: 'http://gpu-1:8000', weight: 2 }] })).toThrow(
      /replicas\.0\.weight: unknown field/,
    );
  });

  it('wants an http(s) URL for a replica', () => {
    expect(() => parseConfig({ replicas: [{ url: 'gpu-1:8000' }] })).toThrow(/replicas\.0\.url/);
    expect(parseConfig({ replicas: [{ url: 'https://gpu-1:8000' }] }).replicas[0]?.url).toBe(
      'https://gpu-1:8000',
    );
  });

  it('refuses an output or dead-letter topic equal to the input', () => {
    expect(() => parseConfig({ topics: { input: 'x', output: 'x' } })).toThrow(/topics: input/);
    expect(() => parseConfig({ topics: { input: 'x', deadLetter: 'x' } })).toThrow(/topics/);
  });
});
