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

/**
 * Every error code, with its Kafka code (or null), whether retrying the same call can succeed, and
 * whether the writer stops writing when it meets it (`readOnly`: the store turns read-only, and every
 * later write fails with STORE_READ_ONLY whose cause is this error). Read-only codes: STORAGE_FAILED (an
 * fdatasync failed, or a failed write could not be cut back: what is on disk is no longer known),
 * INTERNAL_ERROR (a broken invariant or a programmer error: the writer does not carry on with a state it
 * no longer understands) and STORE_READ_ONLY itself.
 */
export const ERROR_CODES = Object.freeze({
  // Kafka-defined conditions.
  UNKNOWN_TOPIC_OR_PARTITION: { kafkaCode: 3, retriable: true, readOnly: false },
  INVALID_TOPIC_EXCEPTION: { kafkaCode: 17, retriable: false, readOnly: false },
  TOPIC_ALREADY_EXISTS: { kafkaCode: 36, retriable: false, readOnly: false },
  INVALID_PARTITIONS: { kafkaCode: 37, retriable: false, readOnly: false },
  INVALID_REPLICATION_FACTOR: { kafkaCode: 38, retriable: false, readOnly: false },
  INVALID_REQUEST: { kafkaCode: 42, retriable: false, readOnly: false },
  INVALID_COMMIT_OFFSET_SIZE: { kafkaCode: 28, retriable: false, readOnly: false },
  OFFSET_METADATA_TOO_LARGE: { kafkaCode: 12, retriable: false, readOnly: false },
  INVALID_GROUP_ID: { kafkaCode: 24, retriable: false, readOnly: false },
  KAFKA_STORAGE_ERROR: { kafkaCode: 56, retriable: true, readOnly: false },
  INVALID_REPLICA_ASSIGNMENT: { kafkaCode: 39, retriable: false, readOnly: false },
  ILLEGAL_GENERATION: { kafkaCode: 22, retriable: false, readOnly: false },
  UNKNOWN_MEMBER_ID: { kafkaCode: 25, retriable: false, readOnly: false },
  NON_EMPTY_GROUP: { kafkaCode: 68, retriable: false, readOnly: false },
  GROUP_ID_NOT_FOUND: { kafkaCode: 69, retriable: false, readOnly: false },
  INVALID_SESSION_TIMEOUT: { kafkaCode: 26, retriable: false, readOnly: false },
  GROUP_SUBSCRIBED_TO_TOPIC: { kafkaCode: 86, retriable: false, readOnly: false },
  INVALID_PRODUCER_EPOCH: { kafkaCode: 47, retriable: false, readOnly: false },
  INVALID_TXN_STATE: { kafkaCode: 48, retriable: false, readOnly: false },
  INVALID_PRODUCER_ID_MAPPING: { kafkaCode: 49, retriable: false, readOnly: false },
  INVALID_TRANSACTION_TIMEOUT: { kafkaCode: 50, retriable: false, readOnly: false },
  PRODUCER_FENCED: { kafkaCode: 90, retriable: false, readOnly: false },
  CONCURRENT_TRANSACTIONS: { kafkaCode: 51, retriable: true, readOnly: false },
  WATERMARK_REGRESSION: { kafkaCode: null, retriable: false, readOnly: false },
  OFFSET_OUT_OF_RANGE: { kafkaCode: 1, retriable: false, readOnly: false },
  WATCH_LAGGING: { kafkaCode: null, retriable: true, readOnly: false },
  STALE_BROKER_EPOCH: { kafkaCode: 77, retriable: false, readOnly: false },
  INVALID_UPDATE_VERSION: { kafkaCode: 95, retriable: false, readOnly: false },
  BROKER_ID_NOT_REGISTERED: { kafkaCode: 102, retriable: false, readOnly: false },
  NOT_CONTROLLER: { kafkaCode: 41, retriable: true, readOnly: false },
  REQUEST_TIMED_OUT: { kafkaCode: 7, retriable: true, readOnly: false },
  // Store-level conditions with no Kafka equivalent.
  INVALID_CONFIG: { kafkaCode: 40, retriable: false, readOnly: false },
  STORE_LOCKED: { kafkaCode: null, retriable: false, readOnly: false },
  STORE_CLOSED: { kafkaCode: null, retriable: false, readOnly: false },
  HANDLE_EVICTED: { kafkaCode: null, retriable: false, readOnly: false },
  STORAGE_FAILED: { kafkaCode: 56, retriable: false, readOnly: true },
  STORE_READ_ONLY: { kafkaCode: 56, retriable: false, readOnly: true },
  CORRUPT_WAL: { kafkaCode: null, retriable: false, readOnly: false },
  UNSUPPORTED_FORMAT: { kafkaCode: null, retriable: false, readOnly: false },
  INTERNAL_ERROR: { kafkaCode: -1, retriable: false, readOnly: true },
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
  /** True when this error stops the writer: the store is read-only from then on (see ERROR_CODES). */
  readonly makesReadOnly: boolean;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'MetaLogError';
    this.code = code;
    this.kafkaCode = ERROR_CODES[code].kafkaCode;
    this.retriable = ERROR_CODES[code].retriable;
    this.makesReadOnly = ERROR_CODES[code].readOnly;
    this.details = details;
  }

  /**
   * The one way an unknown thrown value becomes a MetaLogError: a MetaLogError stays as it is; a
   * programmer error (a failed assertion, a TypeError, RangeError or ReferenceError from our own code)
   * becomes a non-retriable INTERNAL_ERROR whatever `code` says, so a bug is never reported as a
   * retriable disk error; anything else (an OS error, say) becomes `code`, with `context` before its
   * message and the original as `cause`.
   */
  static wrap(cause: unknown, code: ErrorCode = 'INTERNAL_ERROR', context = 'unexpected error', details: ErrorDetails = {}): MetaLogError {
    if (cause instanceof MetaLogError) return cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    const actualCode = isProgrammerError(cause) ? 'INTERNAL_ERROR' : code;
    return new MetaLogError(actualCode, `${context}: ${message}`, details, cause);
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

/** Names of the errors that only wrong code throws: assertions (ours and native-free's) and JS's own. */
const PROGRAMMER_ERROR_NAMES = new Set(['AssertionError', 'RingAssertionError', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

function isProgrammerError(error: unknown): boolean {
  // An OS error carries an errno code (ENOSPC, EIO): the disk's doing, not a bug of ours. Node's own
  // argument errors (ERR_INVALID_ARG_TYPE, ...) mean our code passed something it should have refused.
  if (!(error instanceof Error) || !PROGRAMMER_ERROR_NAMES.has(error.name)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined || code.startsWith('ERR_');
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
