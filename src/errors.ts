/**
 * Typed errors of chronik-metalog.
 *
 * The `code` strings in {@link ERROR_CODES} are the contract: callers branch on them, never on
 * `message`, which may change. Where Kafka defines an error for the same condition, `kafkaCode` carries
 * Kafka's numeric code so a broker can put it straight into a response.
 *
 * Errors cross threads as plain {@link SerializedError} objects (`toJSON`) and are rebuilt into a
 * `MetaLogError` on arrival (`fromSerialized`), so a caller sees the same class and code whichever thread
 * raised it.
 */

/** Every error code, with its Kafka code (or null) and whether retrying the same call can succeed. */
export const ERROR_CODES = Object.freeze({
  // Kafka-defined conditions.
  UNKNOWN_TOPIC_OR_PARTITION: { kafkaCode: 3, retriable: true },
  INVALID_TOPIC_EXCEPTION: { kafkaCode: 17, retriable: false },
  TOPIC_ALREADY_EXISTS: { kafkaCode: 36, retriable: false },
  INVALID_PARTITIONS: { kafkaCode: 37, retriable: false },
  INVALID_REPLICATION_FACTOR: { kafkaCode: 38, retriable: false },
  INVALID_REQUEST: { kafkaCode: 42, retriable: false },
  INVALID_COMMIT_OFFSET_SIZE: { kafkaCode: 28, retriable: false },
  OFFSET_METADATA_TOO_LARGE: { kafkaCode: 12, retriable: false },
  INVALID_GROUP_ID: { kafkaCode: 24, retriable: false },
  KAFKA_STORAGE_ERROR: { kafkaCode: 56, retriable: true },
  INVALID_REPLICA_ASSIGNMENT: { kafkaCode: 39, retriable: false },
  ILLEGAL_GENERATION: { kafkaCode: 22, retriable: false },
  UNKNOWN_MEMBER_ID: { kafkaCode: 25, retriable: false },
  NON_EMPTY_GROUP: { kafkaCode: 68, retriable: false },
  GROUP_SUBSCRIBED_TO_TOPIC: { kafkaCode: 86, retriable: false },
  INVALID_PRODUCER_EPOCH: { kafkaCode: 47, retriable: false },
  INVALID_TXN_STATE: { kafkaCode: 48, retriable: false },
  INVALID_PRODUCER_ID_MAPPING: { kafkaCode: 49, retriable: false },
  INVALID_TRANSACTION_TIMEOUT: { kafkaCode: 50, retriable: false },
  PRODUCER_FENCED: { kafkaCode: 90, retriable: false },
  CONCURRENT_TRANSACTIONS: { kafkaCode: 51, retriable: true },
  WATERMARK_REGRESSION: { kafkaCode: null, retriable: false },
  OFFSET_OUT_OF_RANGE: { kafkaCode: 1, retriable: false },
  WATCH_LAGGING: { kafkaCode: null, retriable: true },
  STALE_BROKER_EPOCH: { kafkaCode: 77, retriable: false },
  INVALID_UPDATE_VERSION: { kafkaCode: 95, retriable: false },
  BROKER_ID_NOT_REGISTERED: { kafkaCode: 102, retriable: false },
  // Store-level conditions with no Kafka equivalent.
  INVALID_CONFIG: { kafkaCode: 40, retriable: false },
  STORE_LOCKED: { kafkaCode: null, retriable: false },
  STORE_CLOSED: { kafkaCode: null, retriable: false },
  HANDLE_EVICTED: { kafkaCode: null, retriable: false },
  STORE_READ_ONLY: { kafkaCode: 56, retriable: false },
  CORRUPT_WAL: { kafkaCode: null, retriable: false },
  UNSUPPORTED_FORMAT: { kafkaCode: null, retriable: false },
  INTERNAL_ERROR: { kafkaCode: -1, retriable: false },
} as const);

/** A stable error code string. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Where an error happened: the field, file, byte position, offset or entity involved. */
export interface ErrorDetails {
  field?: string;
  file?: string;
  position?: number;
  offset?: number;
  entity?: string;
  [key: string]: unknown;
}

/** The thread-crossing form of a {@link MetaLogError}. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
  cause?: SerializedError | { name: string; message: string; code?: string };
}

/** The one error class of the store: a stable `code`, Kafka's code where it has one, and details. */
export class MetaLogError extends Error {
  readonly code: ErrorCode;
  readonly kafkaCode: number | null;
  readonly retriable: boolean;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'MetaLogError';
    this.code = code;
    this.kafkaCode = ERROR_CODES[code].kafkaCode;
    this.retriable = ERROR_CODES[code].retriable;
    this.details = details;
  }

  /** The plain form sent between threads. */
  toJSON(): SerializedError {
    const serialized: SerializedError = { code: this.code, message: this.message, details: this.details };
    if (this.cause instanceof MetaLogError) serialized.cause = this.cause.toJSON();
    else if (this.cause instanceof Error) {
      const nodeCode = (this.cause as NodeJS.ErrnoException).code;
      serialized.cause = { name: this.cause.name, message: this.cause.message, ...(nodeCode ? { code: nodeCode } : {}) };
    }
    return serialized;
  }
}

/** Rebuilds a {@link MetaLogError} from its serialized form (the inverse of `toJSON`). */
export function fromSerialized(serialized: SerializedError): MetaLogError {
  let cause: unknown;
  if (serialized.cause !== undefined) {
    if ('details' in serialized.cause) cause = fromSerialized(serialized.cause as SerializedError);
    else {
      const plain = serialized.cause as { name: string; message: string; code?: string };
      const error = new Error(plain.message) as NodeJS.ErrnoException;
      error.name = plain.name;
      if (plain.code !== undefined) error.code = plain.code;
      cause = error;
    }
  }
  const code: ErrorCode = serialized.code in ERROR_CODES ? serialized.code : 'INTERNAL_ERROR';
  return new MetaLogError(code, serialized.message, serialized.details ?? {}, cause);
}

/** True when `error` is a {@link MetaLogError} with the given code. */
export function hasCode(error: unknown, code: ErrorCode): error is MetaLogError {
  return error instanceof MetaLogError && error.code === code;
}
