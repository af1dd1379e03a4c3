import { Admin, Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
import type { Config } from '../config.ts';
import { errorCodes, TokenlineError } from '../errors.ts';
import { withTimeout } from '../timeout.ts';

type KafkaConfig = Config['kafka'];

export type BufferConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;
export type BufferProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

function base(kafka: KafkaConfig, role: string) {
  return {
    clientId: `${kafka.clientId}-${role}`,
    bootstrapBrokers: kafka.brokers,
    timeout: kafka.connectTimeoutMs,
  };
}

/** Consumer of the input topic; keys, values and headers stay raw bytes. */
export function createConsumer(kafka: KafkaConfig): BufferConsumer {
  return new Consumer({
    ...base(kafka, 'consumer'),
    groupId: kafka.groupId,
    sessionTimeout: kafka.sessionTimeoutMs,
    heartbeatInterval: kafka.heartbeatIntervalMs,
    rebalanceTimeout: kafka.sessionTimeoutMs,
    autocommit: false,
  });
}

/** Producer of results and dead letters: acknowledged by all in-sync replicas. */
export function createProducer(kafka: KafkaConfig): BufferProducer {
  return new Producer({ ...base(kafka, 'producer'), acks: ProduceAcks.ALL });
}

export function createAdmin(kafka: KafkaConfig): Admin {
  return new Admin({ ...base(kafka, 'admin'), retries: 1 });
}

/**
 * Fails fast with a clear error when the brokers do not answer or a topic is missing, instead
 * of letting the consumer retry silently.
 */
export async function checkTopics(kafka: KafkaConfig, topics: string[]): Promise<void> {
  const admin = createAdmin(kafka);
  try {
    const where = `Kafka at ${kafka.brokers.join(',')}`;
    const existing = await withTimeout(
      admin.listTopics().catch((error: Error) => {
        throw new TokenlineError(errorCodes.unreachable, `${where}: ${error.message}`, {
          cause: error,
        });
      }),
      kafka.connectTimeoutMs,
      () =>
        new TokenlineError(
          errorCodes.unreachable,
          `${where} did not answer within ${kafka.connectTimeoutMs} ms`,
        ),
    );
    const missing = topics.filter((t) => !existing.includes(t));
    if (missing.length > 0) {
      throw new TokenlineError(
        errorCodes.config,
        `topics missing on the broker: ${missing.join(', ')}`,
      );
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
}
