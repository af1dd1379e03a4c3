import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/replica/tokenize.ts';

const message = [
  'From spammer@example.com  Thu Aug 22 12:36:23 2002',
  'Received: from mail.example.com (relay)',
  'Subject: Cheap Meds',
  '',
  '<p>Buy <b>now</b></p> special=20offer',
].join('\n');

describe('tokenize', () => {
  it('keeps only the subject of the headers, as subject: tokens', () => {
    expect(tokenize(message).slice(0, 2)).toEqual(['subject:cheap', 'subject:meds']);
    expect(tokenize(message)).not.toContain('received');
  });

  it('reads the body as words: tags dropped, quoted-printable decoded, lower-cased', () => {
    expect(tokenize(message).slice(2)).toEqual(['buy', 'now', 'special', 'offer']);
  });

  it('finds the headers after an instruction paragraph, as in a chat prompt', () => {
    expect(tokenize(`Classify this email as spam or ham.\n\n${message}`)).toEqual([
      'subject:cheap',
      'subject:meds',
      'classify',
      'this',
      'email',
      'as',
      'spam',
      'or',
      'ham',
      'buy',
      'now',
      'special',
      'offer',
    ]);
  });

  it('reads text without headers as body, and drops runs too long to be words', () => {
    expect(tokenize(`hello world ${'x'.repeat(40)}`)).toEqual(['hello', 'world']);
  });
});
