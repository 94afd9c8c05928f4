/**
 * Request and response headers against bytes written out by hand (RequestHeader.json and
 * ResponseHeader.json in Kafka's message specs).
 */
import test from 'ava';
import { readRequestHeader, writeResponseHeader } from '../../../../src/kafka/codec/request-header.js';
import { MalformedRequest, WireReader } from '../../../../src/kafka/codec/wire-reader.js';
import { WireWriter } from '../../../../src/kafka/codec/wire-writer.js';

function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
}

test('request header v1: key, version, correlation id, client id', (t) => {
  const reader = new WireReader(hex('0003 0006 7fffffff', '0007', Buffer.from('kafkajs').toString('hex')));
  t.deepEqual(readRequestHeader(reader), { apiKey: 3, apiVersion: 6, correlationId: 2_147_483_647, clientId: 'kafkajs' });
  reader.expectEnd('header');
});

test('request header: a null client id reads as null', (t) => {
  t.deepEqual(readRequestHeader(new WireReader(hex('0012 0000 00000001 ffff'))), { apiKey: 18, apiVersion: 0, correlationId: 1, clientId: null });
});

test('request header: too short, or a client id past the end, is malformed', (t) => {
  t.throws(() => readRequestHeader(new WireReader(hex('0012 0000 000000'))), { instanceOf: MalformedRequest });
  t.throws(() => readRequestHeader(new WireReader(hex('0012 0000 00000001'))), { instanceOf: MalformedRequest });
  t.throws(() => readRequestHeader(new WireReader(hex('0012 0000 00000001 0005 6162'))), { instanceOf: MalformedRequest });
});

test('response header v0 for non-flexible versions and for ApiVersions at any version; v1 (tagged fields) otherwise', (t) => {
  const written = (apiKey: number, flexible: boolean) => {
    const writer = new WireWriter();
    writeResponseHeader(writer, 0x01020304, apiKey, flexible);
    return writer.finish().subarray(4).toString('hex');
  };
  t.is(written(3, false), '01020304');
  t.is(written(18, false), '01020304');
  t.is(written(18, true), '01020304', 'ApiVersions keeps header v0 so any client can read it');
  t.is(written(3, true), '0102030400');
});
