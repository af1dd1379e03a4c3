/**
 * The BullMQ job id of an inference: the event id plus the model revision, so that a record
 * delivered again finds the job of its first delivery. BullMQ ids must not contain ':' (its
 * key separator) and must not be plain integers; percent-encoding the event id removes every
 * ':' and the '~' before the revision (which has no '~') keeps the id non-numeric and unique.
 */
export function jobIdFor(eventId: string, revision: string): string {
  return `${encodeURIComponent(eventId)}~${revision}`;
}
