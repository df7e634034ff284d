// One line per benchmark target, the same shape in every bench so a reader (or a grep) can collect them:
//   target <name>: met (<value> vs <target>)
//   target <name>: NOT met (<value> vs <target>)
// A target that could not be measured in this run says so instead of pretending to be met or not.

export interface TargetResult {
  name: string;
  /** null: not measured in this run */
  met: boolean | null;
  value: string;
  goal: string;
}

export function targetLine(t: TargetResult): string {
  if (t.met === null) return `target ${t.name}: NOT measured (${t.value} vs ${t.goal})`;
  return `target ${t.name}: ${t.met ? 'met' : 'NOT met'} (${t.value} vs ${t.goal})`;
}

const show = (v: number, unit: string, digits: number): string => `${Number.isInteger(v) ? v : v.toFixed(digits)}${unit}`;

/** Collects a bench's targets; print() writes one line each. */
export class Targets {
  readonly results: TargetResult[] = [];

  check(name: string, met: boolean | null, value: string | number, goal: string | number): TargetResult {
    const r = { name, met, value: String(value), goal: String(goal) };
    this.results.push(r);
    return r;
  }

  /** value < limit */
  below(name: string, value: number, limit: number, unit = '', digits = 1): TargetResult {
    return this.check(name, Number.isFinite(value) && value < limit, show(value, unit, digits), `< ${show(limit, unit, digits)}`);
  }

  /** value <= limit */
  atMost(name: string, value: number, limit: number, unit = '', digits = 1): TargetResult {
    return this.check(name, Number.isFinite(value) && value <= limit, show(value, unit, digits), `<= ${show(limit, unit, digits)}`);
  }

  /** value >= limit */
  atLeast(name: string, value: number, limit: number, unit = '', digits = 1): TargetResult {
    return this.check(name, Number.isFinite(value) && value >= limit, show(value, unit, digits), `>= ${show(limit, unit, digits)}`);
  }

  /** value === expected */
  equals(name: string, value: number | string, expected: number | string): TargetResult {
    return this.check(name, value === expected, value, expected);
  }

  notMeasured(name: string, why: string, goal: string | number): TargetResult {
    return this.check(name, null, why, goal);
  }

  lines(): string[] {
    return this.results.map(targetLine);
  }

  print(write: (line: string) => void = (l) => console.log(l)): void {
    for (const l of this.lines()) write(l);
  }

  get allMet(): boolean {
    return this.results.every((r) => r.met === true);
  }
}
