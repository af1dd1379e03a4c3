/**
 * Changes whenever tokenization changes: the same training emails then give a different
 * model, so the version is part of the model's revision.
 */
export const tokenizerVersion = 'words-v1';

/** Tokens longer than this are base64 runs, hashes or glued URLs: noise, not words. */
const maxTokenLength = 30;

/**
 * Lower-cased word tokens of an email, as the classifier sees it. Measured on the held-out
 * split, each step below earns its place: routing headers only teach the model which mail
 * server collected a message, so of the headers only the subject is kept (as `subject:`
 * tokens); quoted-printable is decoded so `=20`-split words come back whole; HTML tags are
 * dropped so spam's markup does not outvote its words.
 */
export function tokenize(text: string): string[] {
  const { headers, body } = splitMessage(text);
  const subject = /^subject:(.*)$/im.exec(headers)?.[1] ?? '';
  const subjectTokens = words(subject).map((word) => `subject:${word}`);

  return subjectTokens.concat(words(readableText(body)));
}

function words(text: string): string[] {
  const all = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];

  return all.filter((word) => word.length <= maxTokenLength);
}

/**
 * Headers are the first paragraph that starts like a header line. A chat prompt usually
 * puts an instruction paragraph before the message, so the second paragraph is tried too.
 */
function splitMessage(text: string): { headers: string; body: string } {
  const paragraphs = /\r?\n[ \t]*\r?\n/g;
  let start = 0;
  for (let paragraph = 0; paragraph < 2; paragraph++) {
    const end = paragraphs.exec(text)?.index ?? text.length;
    if (isHeaderLine(text.slice(start, start + 200))) {
      return { headers: text.slice(start, end), body: text.slice(0, start) + text.slice(end) };
    }
    start = paragraphs.lastIndex;
    if (start === 0) break;
  }

  return { headers: '', body: text };
}

/** An mbox `From ` line or an RFC 5322 `Name: value` field. */
function isHeaderLine(text: string): boolean {
  return /^(?:From \S|[A-Za-z][A-Za-z0-9-]*:)/.test(text);
}

function readableText(body: string): string {
  return body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/<[^<>]*>/g, ' ')
    .replace(/&(?:nbsp|amp|lt|gt|quot);/gi, ' ');
}
