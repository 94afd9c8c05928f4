/** The result table of a BATCH record: plain, failed and per-entry results survive the round trip. */
import test from 'ava';
import { BATCH_HEADER_BYTES, BATCH_KIND, decodeBatch, encodeResultError, resultBytes, writeBatchHeader, writeResult } from '../../../src/writer/batch-record.js';
import { MetaLogError } from '../../../src/errors.js';
import type { EntryRefusal } from '../../../src/commands/commands.js';

test('results with events, errors and refused entries decode as written', (t) => {
  const refusedWithEvent: EntryRefusal[] = [{ index: 1, code: 'UNKNOWN_TOPIC_OR_PARTITION' }, { index: 70000, code: 'GROUP_SUBSCRIBED_TO_TOPIC' }];
  const refusedAll: EntryRefusal[] = [{ index: 0, code: 'OFFSET_METADATA_TOO_LARGE' }];
  const error = encodeResultError(new MetaLogError('NON_EMPTY_GROUP', 'group has members', { entity: 'g' }).toJSON());
  const rows = [
    { handleId: 0, seq: 1, error: null, wroteEvent: true, refused: [] as EntryRefusal[] },
    { handleId: 3, seq: 2, error, wroteEvent: false, refused: [] as EntryRefusal[] },
    { handleId: 0, seq: 3, error: null, wroteEvent: true, refused: refusedWithEvent },
    { handleId: 7, seq: 4, error: null, wroteEvent: false, refused: refusedAll },
  ];
  const resultsBytes = rows.reduce((sum, row) => sum + resultBytes(row.error, row.refused), 0);
  const record = Buffer.alloc(BATCH_HEADER_BYTES + resultsBytes);
  writeBatchHeader(record, BATCH_KIND.BATCH, { resultCount: rows.length, firstOffset: 5, recordCount: 0, framesBytes: 0, durableOffset: 4, resultsBytes, schemaBytes: 0 });
  let position = BATCH_HEADER_BYTES;
  for (const row of rows) position = writeResult(record, position, row.handleId, row.seq, row.error, row.wroteEvent, row.refused);
  t.is(position, record.length);
  const batch = decodeBatch(record);
  t.deepEqual(batch.results.map((r) => [r.handleId, r.seq, r.wroteEvent, r.error?.code ?? null, r.refused]), [
    [0, 1, true, null, []],
    [3, 2, false, 'NON_EMPTY_GROUP', []],
    [0, 3, true, null, refusedWithEvent],
    [7, 4, false, null, refusedAll],
  ]);
});
