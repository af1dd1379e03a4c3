/**
 * Names of the events Tokenline's machines exchange, in one place. Dotted lower case:
 * `<subject>.<what happened>`.
 */
export const events = {
  recordsFetched: 'records.fetched',
  recordSettled: 'record.settled',
  partitionDrain: 'partition.drain',
  partitionPause: 'partition.pause',
  partitionResume: 'partition.resume',
  assignmentChanged: 'assignment.changed',
  serviceShutdown: 'service.shutdown',
} as const;
