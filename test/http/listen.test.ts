import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { claimHttpPort } from '../../src/http/listen.ts';

describe('claiming the HTTP address', () => {
  it('blames http.host for a host that does not resolve, and http.port for a port in use', () => {
    const badHost = parseConfig({ http: { host: 'not a host', port: 0 } }).http;
    expect(() => claimHttpPort(badHost)).toThrow(
      /invalid configuration: http\.host: cannot listen on not a host:0 .*set http\.host/,
    );

    const taken = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
    try {
      const busy = parseConfig({ http: { host: '127.0.0.1', port: taken.port } }).http;
      expect(() => claimHttpPort(busy)).toThrow(
        new RegExp(`http\\.port: cannot listen on 127\\.0\\.0\\.1:${taken.port} .*free port`),
      );
    } finally {
      void taken.stop(true);
    }
  });
});
