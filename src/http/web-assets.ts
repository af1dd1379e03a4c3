import { readFileSync } from 'node:fs';

/** The operator page's files in src/web, served as they are: plain HTML, CSS and JS. */
const assets = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const;

export type WebAssetName = keyof typeof assets;

// The page loads only its own files; diagrams are inline SVG from this origin.
const securityHeaders = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

const texts = new Map<WebAssetName, string>();

export function webAsset(name: WebAssetName): Response {
  let text = texts.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`../web/${name}`, import.meta.url), 'utf8');
    texts.set(name, text);
  }
  return new Response(text, { headers: { 'content-type': assets[name], ...securityHeaders } });
}
