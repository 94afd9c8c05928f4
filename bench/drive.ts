/** Keeps `inFlight` calls outstanding until `total` have completed, like a broker with that many requests open. */
export async function drive(total: number, inFlight: number, call: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    // Each lane takes the next index until all are taken; bounded by `total`.
    while (next < total) await call(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
  return (performance.now() - started) / 1000;
}
