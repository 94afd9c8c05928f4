/**
 * Cuts a connection's byte stream into request frames: INT32 size, then that many bytes.
 *
 * A size below a request header's or above `maxFrameBytes` (Kafka's socket.request.max.bytes) is an
 * error before any of the frame is buffered, so a client cannot make the broker hold more than one
 * frame's worth of its bytes. Bytes are copied once, into the frame they belong to.
 */

/** The smallest request: INT16 key, INT16 version, INT32 correlation id, INT16 client id length. */
const FRAME_BYTES_MIN = 10;

export class FrameTooLarge extends Error {
  constructor(readonly frameBytes: number, readonly maxFrameBytes: number) {
    super(frameBytes < FRAME_BYTES_MIN ? `frame of ${frameBytes} bytes is shorter than a request header` : `frame of ${frameBytes} bytes is over socket.request.max.bytes (${maxFrameBytes})`);
    this.name = 'FrameTooLarge';
  }
}

export class FrameSplitter {
  private readonly sizeBytes = Buffer.alloc(4);
  private sizeFilled = 0;
  private frame: Buffer | null = null;
  private frameFilled = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes buffered for frames not complete yet. */
  get pendingBytes(): number {
    return this.sizeFilled + this.frameFilled;
  }

  /** Feeds a chunk; returns the frames it completes, in order. Throws FrameTooLarge. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let position = 0;
    while (position < chunk.length) {
      if (this.frame === null) {
        const copied = chunk.copy(this.sizeBytes, this.sizeFilled, position, position + 4 - this.sizeFilled);
        this.sizeFilled += copied;
        position += copied;
        if (this.sizeFilled < 4) break;
        const frameBytes = this.sizeBytes.readInt32BE(0);
        if (frameBytes < FRAME_BYTES_MIN || frameBytes > this.maxFrameBytes) throw new FrameTooLarge(frameBytes, this.maxFrameBytes);
        this.frame = Buffer.allocUnsafe(frameBytes);
        this.frameFilled = 0;
        this.sizeFilled = 0;
      }
      const copied = chunk.copy(this.frame, this.frameFilled, position, position + this.frame.length - this.frameFilled);
      this.frameFilled += copied;
      position += copied;
      if (this.frameFilled === this.frame.length) {
        frames.push(this.frame);
        this.frame = null;
        this.frameFilled = 0;
      }
    }
    return frames;
  }
}
