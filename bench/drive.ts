/**
 * Keeps `inFlight` calls outstanding until `total` have completed, like a broker with that many requests
 * open; reports progress every 256 completions when given a label.
 * @returns the seconds it took.
 */
import { startProgress, stopProgress, updateProgress } from './progress.js';

export async function drive(total: number, inFlight: number, call: (index: number) => Promise<unknown>, label?: string): Promise<number> {
  let next = 0;
  let done = 0;
  if (label !== undefined) startProgress(label, total);
  const started = performance.now();
  const lane = async (): Promise<void> => {
    // Each lane takes the next index until all are taken; bounded by `total`.
    while (next < total) {
      await call(next++);
      if ((++done & 255) === 0 && label !== undefined) updateProgress(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
  const seconds = (performance.now() - started) / 1000;
  if (label !== undefined) stopProgress();
  return seconds;
}
