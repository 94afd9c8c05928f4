/**
 * InitProducerId (key 22), v0–v1.
 *
 *   Request v0–v1: transactional_id NULLABLE_STRING, transaction_timeout_ms INT32
 *   Response v0–v1: throttle_time_ms INT32, error_code INT16, producer_id INT64, producer_epoch INT16
 *
 * Served for idempotent producers (transactional_id null). Transactions are not served, so a request
 * with a transactional id is refused.
 */
import type { ApiCodec } from '../api.js';

export interface InitProducerIdRequest {
  readonly transactionalId: string | null;
  readonly transactionTimeoutMs: number;
}

export interface InitProducerIdResponse {
  readonly errorCode: number;
  readonly producerId: number;
  readonly producerEpoch: number;
}

export const InitProducerId: ApiCodec<InitProducerIdRequest, InitProducerIdResponse> = {
  apiKey: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 1,
  flexibleFromVersion: 2,
  decodeRequest(reader) {
    const transactionalId = reader.nullableString();
    return { transactionalId, transactionTimeoutMs: reader.int32() };
  },
  encodeResponse(writer, _version, response) {
    writer.int32(0).int16(response.errorCode).int64(response.producerId).int16(response.producerEpoch);
  },
};
