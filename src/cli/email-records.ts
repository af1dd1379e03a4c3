import type { MessageToProduce } from '@platformatic/kafka';
import type { Email } from '../replica/corpus.ts';

/** The ordering key of an email: its sender's address, so one sender's mail stays in order. */
export function senderOf(text: string): string {
  const line = /^from:\s*(.*)$/im.exec(text)?.[1] ?? '';
  const address = /<([^>]+)>/.exec(line)?.[1] ?? line.split(/\s+/)[0] ?? '';
  return address.toLowerCase() || 'unknown-sender';
}

export function subjectOf(text: string): string {
  return (/^subject:\s*(.*)$/im.exec(text)?.[1] ?? '').slice(0, 200);
}

/** An input record for one email: key = sender, `event-id` header = the corpus-derived id. */
export function emailMessage(
  email: Email,
  topic: string,
): MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  const value = { id: email.eventId, subject: subjectOf(email.text), text: email.text };
  return {
    topic,
    key: Buffer.from(senderOf(email.text)),
    value: Buffer.from(JSON.stringify(value)),
    headers: new Map([[Buffer.from('event-id'), Buffer.from(email.eventId)]]),
  };
}
