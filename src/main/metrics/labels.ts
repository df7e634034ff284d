// Label values come from other services (failure reasons, endpoints, HTTP statuses). A free-text reason must not
// explode Prometheus' series count or the per-minute table, so values are normalized and each label has a cap on
// distinct values; past it, new values are counted as 'other'.

const MAX_LENGTH = 64;

export function normalizeLabel(value: string | number): string {
  const text = String(value)
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_.:-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_LENGTH);
  return text || 'unknown';
}

/** Remembers the distinct values seen per label name and folds the excess into 'other'. */
export class LabelCaps {
  private readonly seen = new Map<string, Set<string>>();
  /** raw -> normalized per label, so the hot path skips the regexes (bounded: free text must not grow it). */
  private readonly memo = new Map<string, Map<string | number, string>>();

  constructor(private readonly maxDistinct = 40) {}

  value(label: string, raw: string | number): string {
    let memo = this.memo.get(label);
    if (!memo) this.memo.set(label, (memo = new Map()));
    const known = memo.get(raw);
    if (known !== undefined) return known;
    const value = this.admit(label, normalizeLabel(raw));
    if (memo.size < 1000) memo.set(raw, value);
    return value;
  }

  private admit(label: string, value: string): string {
    let values = this.seen.get(label);
    if (!values) {
      values = new Set();
      this.seen.set(label, values);
    }
    if (values.has(value)) return value;
    if (values.size >= this.maxDistinct) return 'other';
    values.add(value);
    return value;
  }
}

/** A label set as the per-minute table's key: sorted `name=value` pairs joined by ','; '' for none. */
export function labelKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

export function parseLabelKey(key: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!key) return out;
  for (const pair of key.split(',')) {
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
