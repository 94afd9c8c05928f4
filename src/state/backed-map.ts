/**
 * A Map that starts out backed by a read-only source (a store's shared index, restored from a
 * snapshot) and loads entries from it on first use, instead of decoding the whole source up front.
 *
 * Why: opening a store from a snapshot puts the index back in memory in one copy, but the writer also
 * validates commands against its own state (topics, groups, ...). Decoding 100,000 topics into that
 * state would cost more than the whole open may take; loaded on demand, the writer pays only for the
 * entities that later commands touch.
 *
 * Rules that keep it equal to a plain Map holding the source's entries plus every later change:
 * - an entry loaded, set or deleted here is decided here from then on (a deleted one is remembered, so
 *   the source, which lags until the writer publishes, is not asked again); a key the source lacks is
 *   asked again each time, not remembered (the source gains keys only from this map, and a remembered
 *   miss per unknown name would let any caller grow it without bound), unless the source asks for it
 *   (`rememberMisses`: a scan per miss, over keys the store bounds);
 * - once the source has caught up with a key (the writer published it), `forget` may drop the entry or
 *   the remembered deletion, if it still is what was published: the next `get` loads it again;
 * - the source must not gain or change entries except through this map (the writer publishes the
 *   index from this state, so it never holds what this map has not seen);
 * - anything that needs every entry (size, iteration) loads the rest first, once, after which the
 *   map is a plain Map. Entry values are never undefined.
 */
export interface MapSource<K, V> {
  /** The source's entry for `key`, decoded, or undefined. */
  load(key: K): V | undefined;
  /**
   * Remember a key the source lacks, so it is not asked again: for a source whose miss costs a scan
   * and whose keys are only ever names the store has (a topic's watermarks or segments), so what is
   * remembered stays bounded.
   */
  rememberMisses?: boolean;
  /** Every entry of the source (called at most once). */
  loadAll(): Iterable<[K, V]>;
}

export class BackedMap<K, V> extends Map<K, V> {
  private source: MapSource<K, V> | null;
  /** Keys deleted here, which the source may still hold until the writer publishes. */
  private readonly absent = new Set<K>();
  /** Keys loaded from the source and not changed here since: copies of what the source holds. */
  private readonly loaded = new Set<K>();

  constructor(source: MapSource<K, V> | null = null) {
    super();
    this.source = source;
  }

  /** True while entries may still be loaded from the source. */
  get backed(): boolean {
    return this.source !== null;
  }

  /**
   * True when `key` is decided here (loaded, set, or deleted): `get` will not ask the source. With
   * `backed`, what lets a caller search the source itself for the keys not decided yet.
   */
  decided(key: K): boolean {
    return this.source === null || super.has(key) || this.absent.has(key);
  }

  /** The entries decided here and present, without loading the rest (a plain Map's entries once unbacked). */
  decidedEntries(): MapIterator<[K, V]> {
    return super.entries();
  }

  override get(key: K): V | undefined {
    const value = super.get(key);
    if (value !== undefined || this.source === null || this.absent.has(key)) return value;
    const loaded = this.source.load(key);
    if (loaded !== undefined) {
      super.set(key, loaded);
      this.loaded.add(key);
    } else if (this.source.rememberMisses === true) {
      this.absent.add(key);
    }
    return loaded;
  }

  /**
   * Told that the source now holds `published` for `key` (undefined: holds nothing): drops the entry
   * here when it still is that value, or the remembered deletion when the key is still deleted, so the
   * map holds no copy of what the source has. A later change here (not yet published) is kept.
   */
  forget(key: K, published: V | undefined): void {
    if (this.source === null) return;
    if (published === undefined) {
      if (!super.has(key)) this.absent.delete(key);
    } else if (super.get(key) === published) {
      super.delete(key);
    }
  }

  override has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  override set(key: K, value: V): this {
    if (this.source !== null) {
      this.absent.delete(key);
      this.loaded.delete(key);
    }
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    const had = this.has(key);
    super.delete(key);
    if (this.source !== null) {
      this.absent.add(key);
      this.loaded.delete(key);
    }
    return had;
  }

  /**
   * Drops every entry that was loaded from the source and not changed here since (the source holds the
   * same): what a state that reads its published entities back keeps no copy of between publishes.
   */
  forgetLoaded(): void {
    if (this.source === null) return;
    for (const key of this.loaded) super.delete(key);
    this.loaded.clear();
  }

  override clear(): void {
    this.source = null;
    this.absent.clear();
    this.loaded.clear();
    super.clear();
  }

  override get size(): number {
    this.loadRest();
    return super.size;
  }

  override entries(): MapIterator<[K, V]> {
    this.loadRest();
    return super.entries();
  }

  override keys(): MapIterator<K> {
    this.loadRest();
    return super.keys();
  }

  override values(): MapIterator<V> {
    this.loadRest();
    return super.values();
  }

  override forEach(visit: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    this.loadRest();
    super.forEach(visit, thisArg);
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /** Loads every source entry not yet decided here; from then on this is a plain Map. */
  private loadRest(): void {
    const source = this.source;
    if (source === null) return;
    this.source = null;
    for (const [key, value] of source.loadAll()) {
      if (!super.has(key) && !this.absent.has(key)) super.set(key, value);
    }
    this.absent.clear();
    this.loaded.clear();
  }
}
