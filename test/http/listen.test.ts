import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { claimHttpPort } from '../../src/http/listen.ts';

describe('claiming the HTTP address', () => {
  it('blames http.host for an address this machine lacks, and http.port for one in use', () => {
    // TEST-NET-1 (RFC 5737): binding to it fails here without a packet sent anywhere.
    const badHost = parseConfig({ http: { host: '192.0.2.1', port: 0 } }).http;
    expect(() => claimHttpPort(badHost)).toThrow(
      /invalid configuration: http\.host: cannot listen on 192\.0\.2\.1:0 .*set http\.host/,
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
