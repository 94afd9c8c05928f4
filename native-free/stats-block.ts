/**
 * Stats block: numbers that one thread updates and any thread reads, in one SharedArrayBuffer: scalars
 * (a counter or a gauge: the block does not care which) and histograms with fixed bucket bounds.
 *
 * Owns: the layout below, the bounds written once at `create`, the single-writer claim, the update
 * protocol (every change inside one section of a `SequenceLock`, seqlock.ts) and consistent reads.
 *
 * Called by: exactly one writer thread, through a handle that `claimWriter` returned (`beginUpdate`,
 * `add`, `set`, `observe`, `endUpdate`), and by readers on any thread through `attach` (`read`,
 * `readScalar`). Readers never write. The meaning of each scalar and histogram is the caller's.
 *
 * Invariants:
 * - Every value changes only inside an update section; a read returns values of one published state
 *   (the sequence word even and unchanged across the copy), so a histogram's count always equals the
 *   sum of its buckets and a reader never sees half an update.
 * - Bounds of a histogram are finite and strictly increasing; a value lands in the first bucket whose
 *   bound is >= the value, or in the last bucket (+Inf) when none is.
 * - Values are float64: counts stay exact up to 2^53, far beyond what a store's lifetime adds up to.
 *
 * Cost: an update section is two Atomics.add and one Atomics.load (seqlock.ts), whatever it changes;
 * everything inside it is plain stores. A writer that updates once per unit of work (a batch) pays that
 * once per unit.
 *
 * Must never: let a second thread write; change a value outside a section; block the writer on readers.
 *
 * Memory layout (w<n> is Int32 word n; f<n> is Float64 word n of the values area):
 *
 *   byte 0
 *   +- line 0 ------------------------------------------------------------------------------------+
 *   | w0 magic 'STBK' | w1 layoutVersion | w2 scalarCount | w3 histogramCount | w4 writerClaimed     |
 *   +- line 1 ------------------------------------------------------------------------------------+
 *   | w16 sequence (odd while updating) | w17 readersWaiting                     (seqlock.ts)        |
 *   +- line 2 ------------------------------------------------------------------------------------+
 *   | w32 + h: boundCount of histogram h, for h < histogramCount (at most 16)                       |
 *   +---------------------------------------------------------------------------------------------+
 *   byte 192: values area, Float64
 *   +----------------------+-------------------+------------------------------------------------------+
 *   | bounds of every      | scalars           | per histogram h: bucket counts (boundCount + 1, the   |
 *   | histogram, in order  | (scalarCount)     | last for +Inf, not cumulative), then sum, then count  |
 *   | (written at create)  |                   |                                                       |
 *   +----------------------+-------------------+------------------------------------------------------+
 */
import { assert } from './assert.js';
import { SequenceLock } from './seqlock.js';

const MAGIC = 0x5354424b; // 'STBK'
const LAYOUT_VERSION = 1;

const WORD_MAGIC = 0;
const WORD_LAYOUT_VERSION = 1;
const WORD_SCALAR_COUNT = 2;
const WORD_HISTOGRAM_COUNT = 3;
const WORD_WRITER_CLAIMED = 4;
const WORD_SEQUENCE = 16;
const WORD_READERS_WAITING = 17;
const WORD_BOUND_COUNT_FIRST = 32;
const CONTROL_BYTES = 3 * 64;

/** Histograms per block: their bound counts fill one control line. */
const histogramCountMax = 16;
/** Bounds per histogram: a bucket search is a short linear scan. */
const boundCountMax = 64;
/** Scalars per block: a bound on the buffer's size, far above what a store needs. */
const scalarCountMax = 1024;

/** What a block holds: how many scalars, and the bucket bounds of each histogram. */
export interface StatsBlockShape {
  readonly scalarCount: number;
  readonly histogramBounds: readonly (readonly number[])[];
}

/** One histogram as read: bucket counts (not cumulative; the last is the +Inf bucket), sum and count. */
export interface HistogramSnapshot {
  readonly bounds: readonly number[];
  readonly bucketCounts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** Everything in a block, from one published state. */
export interface StatsBlockSnapshot {
  readonly scalars: readonly number[];
  readonly histograms: readonly HistogramSnapshot[];
}

/**
 * Scalars and fixed-bucket histograms in a SharedArrayBuffer: one writer thread, readers on any thread.
 * Every thread uses its own handle (`create` once, `attach` elsewhere; the writer's from `claimWriter`).
 */
export class StatsBlock {
  /** The shared memory; post it to another thread and `attach` there. */
  readonly buffer: SharedArrayBuffer;
  /** Number of scalars. */
  readonly scalarCount: number;
  private readonly control: Int32Array;
  private readonly lock: SequenceLock;
  private readonly values: Float64Array;
  private readonly bounds: readonly Float64Array[];
  /** Index in `values` of each histogram's first bucket count. */
  private readonly histogramBase: readonly number[];
  private readonly scalarBase: number;
  /** This handle claimed the writer role (see `claimWriter`). */
  private writer = false;
  /** True between this writer's `beginUpdate` and `endUpdate`. */
  private updating = false;

  private constructor(buffer: SharedArrayBuffer) {
    const control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    assert(Atomics.load(control, WORD_MAGIC) === MAGIC, 'the buffer holds a stats block');
    assert(Atomics.load(control, WORD_LAYOUT_VERSION) === LAYOUT_VERSION, 'the layout version is known');
    const scalarCount = Atomics.load(control, WORD_SCALAR_COUNT);
    const histogramCount = Atomics.load(control, WORD_HISTOGRAM_COUNT);
    const boundCounts: number[] = [];
    for (let h = 0; h < histogramCount; h++) boundCounts.push(Atomics.load(control, WORD_BOUND_COUNT_FIRST + h));
    assertShapeCounts(scalarCount, boundCounts);
    assert(buffer.byteLength === bufferBytesFor(scalarCount, boundCounts), 'the buffer is control words plus values');
    this.buffer = buffer;
    this.scalarCount = scalarCount;
    this.control = control;
    this.lock = new SequenceLock(control, WORD_SEQUENCE, WORD_READERS_WAITING);
    this.values = new Float64Array(buffer, CONTROL_BYTES);
    const bounds: Float64Array[] = [];
    let position = 0;
    for (const boundCount of boundCounts) {
      bounds.push(this.values.slice(position, position + boundCount));
      position += boundCount;
    }
    this.bounds = bounds;
    this.scalarBase = position;
    position += scalarCount;
    const histogramBase: number[] = [];
    for (const boundCount of boundCounts) {
      histogramBase.push(position);
      position += boundCount + 3;
    }
    this.histogramBase = histogramBase;
  }

  /**
   * Allocates a block of `shape`, every value 0.
   * @throws RingAssertionError when the shape is out of bounds or a histogram's bounds are not finite
   *   and strictly increasing.
   */
  static create(shape: StatsBlockShape): StatsBlock {
    const boundCounts = shape.histogramBounds.map((bounds) => bounds.length);
    assertShapeCounts(shape.scalarCount, boundCounts);
    for (const bounds of shape.histogramBounds) {
      for (let i = 0; i < bounds.length; i++) {
        assert(Number.isFinite(bounds[i]), 'a bucket bound is finite');
        if (i > 0) assert(bounds[i] > bounds[i - 1], 'bucket bounds increase strictly');
      }
    }
    const buffer = new SharedArrayBuffer(bufferBytesFor(shape.scalarCount, boundCounts));
    const control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    // Bounds are plain stores before the atomic stores of the layout words: a thread that attaches
    // later loads the magic with Atomics.load and so sees the bounds too.
    new Float64Array(buffer, CONTROL_BYTES).set(shape.histogramBounds.flat());
    Atomics.store(control, WORD_SCALAR_COUNT, shape.scalarCount);
    Atomics.store(control, WORD_HISTOGRAM_COUNT, boundCounts.length);
    boundCounts.forEach((count, h) => Atomics.store(control, WORD_BOUND_COUNT_FIRST + h, count));
    Atomics.store(control, WORD_LAYOUT_VERSION, LAYOUT_VERSION);
    Atomics.store(control, WORD_MAGIC, MAGIC);
    return new StatsBlock(buffer);
  }

  /**
   * A reading handle on a block created elsewhere (typically on another thread).
   * @throws RingAssertionError when `buffer` does not hold a stats block.
   */
  static attach(buffer: SharedArrayBuffer): StatsBlock {
    assert(buffer instanceof SharedArrayBuffer, 'attach takes a SharedArrayBuffer');
    assert(buffer.byteLength >= CONTROL_BYTES, 'the buffer is long enough for the control words');
    return new StatsBlock(buffer);
  }

  /**
   * The writing handle on a block: the first claim of a block succeeds, any later one (from any thread)
   * is a programmer error, so two writers can never interleave their sections.
   * @throws RingAssertionError when the block already has a writer.
   */
  static claimWriter(buffer: SharedArrayBuffer): StatsBlock {
    const block = StatsBlock.attach(buffer);
    assert(Atomics.compareExchange(block.control, WORD_WRITER_CLAIMED, 0, 1) === 0, 'a stats block has one writer');
    block.writer = true;
    return block;
  }

  /** Number of histograms. */
  get histogramCount(): number {
    return this.bounds.length;
  }

  /** Writer: opens an update section; readers retry until `endUpdate`. */
  beginUpdate(): void {
    assert(this.writer, 'only the writer updates');
    assert(!this.updating, 'update sections do not nest');
    this.updating = true;
    this.lock.beginWrite();
  }

  /** Writer: closes the update section, publishing every change made in it at once. */
  endUpdate(): void {
    assert(this.updating, 'endUpdate closes an open section');
    this.updating = false;
    this.lock.endWrite();
  }

  /** Writer, inside a section: adds `amount` to scalar `index`. */
  add(index: number, amount: number): void {
    assert(this.updating, 'values change inside an update section');
    this.values[this.scalarBase + this.scalarIndex(index)] += amount;
  }

  /** Writer, inside a section: sets scalar `index` to `value`. */
  set(index: number, value: number): void {
    assert(this.updating, 'values change inside an update section');
    this.values[this.scalarBase + this.scalarIndex(index)] = value;
  }

  /** Writer, inside a section: counts `value` in histogram `histogram`. */
  observe(histogram: number, value: number): void {
    assert(this.updating, 'values change inside an update section');
    const bounds = this.bounds[histogram];
    assert(bounds !== undefined, 'the histogram exists');
    // Bounded by the bound count (at most boundCountMax); ends at the +Inf bucket.
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]) bucket++;
    const base = this.histogramBase[histogram];
    this.values[base + bucket] += 1;
    this.values[base + bounds.length + 1] += value;
    this.values[base + bounds.length + 2] += 1;
  }

  /**
   * Any thread: one scalar, from a published state. Cheap enough to call once per unit of work: one
   * inline attempt (two Atomics.load), and the general retry loop only if a section overlapped it.
   */
  readScalar(index: number): number {
    const position = this.scalarBase + this.scalarIndex(index);
    const sequence = this.lock.begin();
    const value = this.values[position];
    if (this.lock.validate(sequence)) return value;
    return this.lock.read(() => this.values[position]);
  }

  /** Any thread: every scalar and histogram, all from one published state. */
  read(): StatsBlockSnapshot {
    const copy = new Float64Array(this.values.length);
    // One copy of the whole values area per attempt: a few hundred bytes, so an attempt is far shorter
    // than the writer's gap between sections.
    this.lock.read(() => {
      copy.set(this.values);
      return copy;
    });
    const scalars = Array.from(copy.subarray(this.scalarBase, this.scalarBase + this.scalarCount));
    const histograms = this.bounds.map((bounds, h) => {
      const base = this.histogramBase[h];
      return {
        bounds: Array.from(bounds),
        bucketCounts: Array.from(copy.subarray(base, base + bounds.length + 1)),
        sum: copy[base + bounds.length + 1],
        count: copy[base + bounds.length + 2],
      };
    });
    return { scalars, histograms };
  }

  private scalarIndex(index: number): number {
    assert(Number.isInteger(index) && index >= 0 && index < this.scalarCount, 'the scalar exists');
    return index;
  }
}

function assertShapeCounts(scalarCount: number, boundCounts: readonly number[]): void {
  assert(Number.isInteger(scalarCount) && scalarCount >= 0, 'scalarCount is an integer >= 0');
  assert(scalarCount <= scalarCountMax, `scalarCount is at most ${scalarCountMax}`);
  assert(boundCounts.length <= histogramCountMax, `a block has at most ${histogramCountMax} histograms`);
  for (const boundCount of boundCounts) {
    assert(Number.isInteger(boundCount) && boundCount >= 1, 'a histogram has at least one bound');
    assert(boundCount <= boundCountMax, `a histogram has at most ${boundCountMax} bounds`);
  }
}

/** Control words, then bounds, scalars and per histogram its buckets (+Inf included), sum and count. */
function bufferBytesFor(scalarCount: number, boundCounts: readonly number[]): number {
  let valueCount = scalarCount;
  for (const boundCount of boundCounts) valueCount += boundCount + boundCount + 3;
  return CONTROL_BYTES + valueCount * 8;
}
