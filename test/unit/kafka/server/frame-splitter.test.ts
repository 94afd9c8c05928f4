/**
 * FrameSplitter: frames come out whole and in order however the stream is cut, and a size outside
 * [request header, maxFrameBytes] is refused as soon as its four bytes arrive.
 */
import test from 'ava';
import { FrameSplitter, FrameTooLarge } from '../../../../src/kafka/server/frame-splitter.js';

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

const BODIES = [Buffer.from('0003000100000007ffff', 'hex'), Buffer.alloc(37, 0xab), Buffer.from('00120000000000090000', 'hex')];
const STREAM = Buffer.concat(BODIES.map(frame));

test('three frames in one chunk come out as three frames, in order', (t) => {
  const splitter = new FrameSplitter(1024);
  t.deepEqual(splitter.push(STREAM), BODIES);
  t.is(splitter.pendingBytes, 0);
});

test('the stream cut in two at every byte position gives the same frames', (t) => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const splitter = new FrameSplitter(1024);
    const frames = [...splitter.push(STREAM.subarray(0, cut)), ...splitter.push(STREAM.subarray(cut))];
    t.deepEqual(frames, BODIES, `cut at ${cut}`);
  }
});

test('the stream fed one byte at a time gives the same frames, and pendingBytes counts the partial one', (t) => {
  const splitter = new FrameSplitter(1024);
  const frames: Buffer[] = [];
  for (let i = 0; i < STREAM.length; i++) {
    frames.push(...splitter.push(STREAM.subarray(i, i + 1)));
    // Three bytes of a size are held as such; once the size is complete, only the frame's bytes are.
    if (i === 2) t.is(splitter.pendingBytes, 3);
    if (i === 5) t.is(splitter.pendingBytes, 2);
  }
  t.deepEqual(frames, BODIES);
  t.is(splitter.pendingBytes, 0);
});

test('a frame is a copy: later chunks do not change it', (t) => {
  const splitter = new FrameSplitter(1024);
  const chunk = Buffer.from(STREAM);
  const [first] = splitter.push(chunk);
  chunk.fill(0);
  t.deepEqual(first, BODIES[0]);
});

test('sizes at the limits: 10 and maxFrameBytes are accepted, 9 and maxFrameBytes + 1 refused', (t) => {
  t.deepEqual(new FrameSplitter(64).push(frame(Buffer.alloc(10))), [Buffer.alloc(10)]);
  t.deepEqual(new FrameSplitter(64).push(frame(Buffer.alloc(64))), [Buffer.alloc(64)]);
  const short = t.throws(() => new FrameSplitter(64).push(frame(Buffer.alloc(9))), { instanceOf: FrameTooLarge });
  t.is(short!.frameBytes, 9);
  const long = t.throws(() => new FrameSplitter(64).push(frame(Buffer.alloc(65))), { instanceOf: FrameTooLarge });
  t.is(long!.frameBytes, 65);
  t.is(long!.maxFrameBytes, 64);
});

test('a bad size is refused on its four bytes alone, before any of its frame is buffered', (t) => {
  t.throws(() => new FrameSplitter(64).push(Buffer.from('7fffffff', 'hex')), { instanceOf: FrameTooLarge });
  t.throws(() => new FrameSplitter(64).push(Buffer.from('ffffffff', 'hex')), { instanceOf: FrameTooLarge });
  const splitter = new FrameSplitter(64);
  t.deepEqual(splitter.push(Buffer.from('0000', 'hex')), []);
  t.throws(() => splitter.push(Buffer.from('0100', 'hex')), { instanceOf: FrameTooLarge });
});
