/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL record and segment header.
 *
 * Two paths compute the same function:
 * - `native`: fast-crc32c backed by its optional SSE4.2 addon (sse4_crc32), about 10 GB/s;
 * - `js`: slicing-by-8 over eight 256-entry tables here, about 1.5 GB/s.
 * fast-crc32c itself silently falls back to a much slower JS loop when its addon is missing (for example
 * after `npm ci --omit=optional`), so this module checks for the addon directly and uses its own fast table
 * code instead. `CRC32C_PATH` says which path loaded; the store reports it in its startup info and the
 * bench prints it. METALOG_CRC32C=js forces the table path (tests use it to cross-check both).
 */
import { createRequire } from 'node:module';

/** Which implementation computes checksums in this thread. */
export type Crc32cPath = 'native' | 'js';

const POLYNOMIAL = 0x82f63b78;

function buildTables(): Int32Array[] {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    tables[0][byte] = crc;
  }
  for (let byte = 0; byte < 256; byte++) {
    for (let t = 1; t < 8; t++) {
      const previous = tables[t - 1][byte];
      tables[t][byte] = (previous >>> 8) ^ tables[0][previous & 0xff];
    }
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables();

/** Slicing-by-8 CRC32C of `bytes[start, end)`, continuing from `previous` (0 for a fresh checksum). */
export function crc32cJs(bytes: Uint8Array, start = 0, end = bytes.length, previous = 0): number {
  let crc = ~previous;
  let i = start;
  const last8 = end - 8;
  while (i <= last8) {
    const low = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc =
      T7[low & 0xff] ^
      T6[(low >>> 8) & 0xff] ^
      T5[(low >>> 16) & 0xff] ^
      T4[low >>> 24] ^
      T3[bytes[i + 4]] ^
      T2[bytes[i + 5]] ^
      T1[bytes[i + 6]] ^
      T0[bytes[i + 7]];
    i += 8;
  }
  while (i < end) crc = (crc >>> 8) ^ T0[(crc ^ bytes[i++]) & 0xff];
  return ~crc >>> 0;
}

type NativeCalculate = (bytes: Buffer, previous?: number) => number;

function loadNative(): NativeCalculate | null {
  if (process.env.METALOG_CRC32C === 'js') return null;
  const require = createRequire(import.meta.url);
  try {
    // fast-crc32c picks the addon when it loads; probe the addon ourselves to know which path it took.
    require('sse4_crc32');
    const fast = require('fast-crc32c') as { calculate: NativeCalculate };
    const probe = Buffer.from('123456789');
    return fast.calculate(probe) === 0xe3069283 ? fast.calculate : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return null;
    // A present but broken addon (wrong ABI, missing symbol) also means: use the table path.
    return null;
  }
}

const nativeCalculate = loadNative();

/** The implementation in use in this thread. */
export const CRC32C_PATH: Crc32cPath = nativeCalculate === null ? 'js' : 'native';

/**
 * Shorter inputs take the table path even where the addon loaded: a call into it costs about 0.17 µs
 * whatever the length, which the tables match at about 128 bytes (measured here: 45 bytes 0.08 µs by
 * table against 0.20 through the addon, 128 bytes 0.19 against 0.21, 256 bytes 0.36 against 0.22).
 * Most WAL records (an offset commit is ~50 bytes) are below it.
 */
const NATIVE_MIN_BYTES = 128;

/** CRC32C of `bytes[start, end)`. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (nativeCalculate !== null && end - start >= NATIVE_MIN_BYTES) {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start);
    return nativeCalculate(view) >>> 0;
  }
  return crc32cJs(bytes, start, end);
}
