import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { testApp, testToken, withToken } from './fixtures.ts';

describe('bearer token', () => {
  it('answers 403 "controls are disabled" while no token is configured, whatever is sent', async () => {
    const { app } = testApp([0], { http: {} });
    for (const headers of [{}, withToken] as Array<Record<string, string>>) {
      const response = await app.request('/actors/partition-emails-0/pause', {
        method: 'POST',
        headers,
      });
      expect(response.status).toBe(403);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('controls_disabled');
      expect(body.error.message).toMatch(/controls are disabled/);
    }
  });

  it('answers 401 with a challenge for a missing, malformed or wrong token', async () => {
    const { app } = testApp([0]);
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: testToken },
      { authorization: 'Basic b3BlcmF0b3I6cGFzcw==' },
      { authorization: `Bearer ${testToken}x` },
      { authorization: 'Bearer ' },
    ];
    for (const headers of attempts) {
      const response = await app.request('/actors/partition-emails-0/pause', {
        method: 'POST',
        headers,
      });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
  });

  it('lets the right token through, in any case of the scheme', async () => {
    const { app } = testApp([0]);
    const response = await app.request('/actors/partition-emails-0/pause', {
      method: 'POST',
      headers: { authorization: `bearer ${testToken}` },
    });
    expect(response.status).toBe(200);
  });

  it('leaves reads open by default', async () => {
    const { app } = testApp([0]);
    expect((await app.request('/actors')).status).toBe(200);
  });

  it('protects reads with protectReads, but not health, the page or the description', async () => {
    const { app } = testApp([0], { http: { token: testToken, protectReads: true } });
    for (const path of ['/actors', '/actors/supervisor', '/machines', '/dead-letters', '/events']) {
      const response = await app.request(path);
      expect(response.status, path).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
    expect((await app.request('/actors', { headers: withToken })).status).toBe(200);
    for (const path of ['/health/live', '/health/ready', '/', '/openapi.json']) {
      expect((await app.request(path)).status, path).toBeLessThan(400);
    }
  });

  it('refuses a configuration that protects reads without a token', () => {
    expect(() => parseConfig({ http: { protectReads: true } })).toThrow(/http.protectReads/);
    expect(parseConfig({ http: { protectReads: true, token: testToken } }).http.protectReads).toBe(
      true,
    );
  });
});
