import { describe, expect, it } from 'vitest';
import { apiErrorCodes } from '../../src/http/errors.ts';
import { testApp } from './fixtures.ts';

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown> };
}

describe('OpenAPI description', () => {
  it('is OpenAPI 3.1 served at /openapi.json', async () => {
    const response = await testApp([]).app.request('/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as Document;
    expect(document.openapi).toBe('3.1.0');
  });

  it('describes every route the app registers, under its method', async () => {
    const { app } = testApp([]);
    const document = (await (await app.request('/openapi.json')).json()) as Document;
    const registered = app.routes
      .filter((route) => route.method !== 'ALL')
      .map(
        (route) => `${route.method.toLowerCase()} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`,
      );
    const described = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path}`),
    );
    expect(new Set(registered)).toEqual(new Set(described));
  });

  it('lists every error code the API answers with, and each operation has responses', async () => {
    const document = (await (await testApp([]).app.request('/openapi.json')).json()) as Document;
    const error = JSON.stringify(document.components.schemas.Error);
    for (const code of Object.values(apiErrorCodes)) expect(error).toContain(`"${code}"`);
    for (const operations of Object.values(document.paths)) {
      for (const operation of Object.values(operations)) {
        expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
      }
    }
  });

  it('points every $ref at a schema it defines', async () => {
    const text = await (await testApp([]).app.request('/openapi.json')).text();
    const document = JSON.parse(text) as Document;
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)];
    expect(refs.length).toBeGreaterThan(5);
    for (const [, name] of refs)
      expect(document.components.schemas, name).toHaveProperty(name as string);
  });
});
