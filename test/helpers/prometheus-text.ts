/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), as much of it as the store
 * emits: `# HELP` and `# TYPE` lines, then samples `name{label="value",...} number`. Any other line is
 * an error, so a test that parses a scrape also checks that it is well formed.
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family: its type, help and samples (for a histogram, its _bucket, _sum and _count lines). */
export interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
const SUFFIXES = ['_bucket', '_sum', '_count'];

/** Parses `text` into families by name; throws on a line that is not well formed. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      const family = families.get(meta[2]) ?? { type: '', help: '', samples: [] };
      if (meta[1] === 'HELP') family.help = meta[3];
      else family.type = meta[3];
      families.set(meta[2], family);
      continue;
    }
    const sample = SAMPLE_LINE.exec(line);
    if (sample === null) throw new Error(`not a sample line: ${line}`);
    const value = sample[3] === '+Inf' ? Infinity : Number(sample[3]);
    if (Number.isNaN(value)) throw new Error(`not a number in: ${line}`);
    const family = familyOf(families, sample[1]);
    if (family === undefined) throw new Error(`a sample before its # TYPE line: ${line}`);
    family.samples.push({ name: sample[1], labels: parseLabels(sample[2] ?? '', line), value });
  }
  return families;
}

function familyOf(families: Map<string, Family>, sampleName: string): Family | undefined {
  const exact = families.get(sampleName);
  if (exact !== undefined) return exact;
  const suffix = SUFFIXES.find((s) => sampleName.endsWith(s));
  return suffix === undefined ? undefined : families.get(sampleName.slice(0, -suffix.length));
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  // Bounded: each match consumes at least one character of the label text.
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (match === null) throw new Error(`bad labels in: ${line}`);
    labels[match[1]] = match[2];
  }
  return labels;
}

/** The value of the sample `name` whose labels include `labels` (undefined when there is none). */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = familyOf(families, name);
  const sample = family?.samples.find(
    (candidate) => candidate.name === name && Object.entries(labels).every(([key, value]) => candidate.labels[key] === value),
  );
  return sample?.value;
}
