import type { Context, Hono } from 'hono';
import { apiErrorCodes, errorBody } from './errors.ts';

const patterns = new WeakMap<Hono, Array<{ method: string; pattern: RegExp }>>();

/**
 * The app's `notFound`: 405 with an `Allow` header when the path exists under another
 * method, 404 when no route has this path.
 */
export function methodNotAllowed(app: Hono, c: Context): Response {
  const path = c.req.path;
  const allowed = new Set<string>();
  for (const route of routePatterns(app)) {
    if (route.pattern.test(path)) allowed.add(route.method);
  }
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  if (allowed.size === 0) {
    return c.json(errorBody(apiErrorCodes.notFound, `no route ${shown}`), 404);
  }
  if (allowed.has('GET')) allowed.add('HEAD');
  const allow = [...allowed].sort().join(', ');
  const message = `${c.req.method} is not allowed on ${shown}; allowed: ${allow}`;
  return c.json(errorBody(apiErrorCodes.methodNotAllowed, message), 405, { allow });
}

function routePatterns(app: Hono): Array<{ method: string; pattern: RegExp }> {
  let list = patterns.get(app);
  if (!list) {
    list = app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => ({ method: route.method, pattern: patternOf(route.path) }));
    patterns.set(app, list);
  }
  return list;
}

function patternOf(path: string): RegExp {
  const parts = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('/')}$`);
}
