/**
 * The targets of issue 7 and what each benchmark measured against them. Benchmarks
 * call `report()`; test/bench/index.ts prints one summary table at the end. A miss
 * says by how much; nothing here fails a run (benchmarks print, they do not assert).
 */
export interface Verdict {
  /** What was measured, e.g. "keystroke p99 (Chromium)". */
  what: string;
  target: string;
  measured: string;
  met: boolean;
  /** For a miss: by how much, e.g. "3.2 ms over" or "0.8x of the 1.2x wanted". */
  by?: string;
  /** Reported for context, not a target (the met column shows a dash). */
  info?: boolean;
}

const verdicts: Verdict[] = [];

export function report(v: Verdict): void {
  verdicts.push(v);
}

/** `value` must be below `limit`: a verdict with the miss expressed in `unit`. */
export function below(what: string, value: number, limit: number, unit: string, note = ''): Verdict {
  const met = value < limit;
  const v: Verdict = { what, target: `< ${+limit.toFixed(2)} ${unit}${note}`, measured: `${value.toFixed(2)} ${unit}`, met };
  if (!met) v.by = `${(value - limit).toFixed(2)} ${unit} over (${(value / limit).toFixed(2)}x)`;
  report(v);
  return v;
}

/** `value` must be at least `floor`. */
export function atLeast(what: string, value: number, floor: number, unit: string, note = ''): Verdict {
  const met = value >= floor;
  const v: Verdict = { what, target: `≥ ${floor} ${unit}${note}`, measured: `${value.toFixed(2)} ${unit}`, met };
  if (!met) v.by = `${(floor - value).toFixed(2)} ${unit} short (${((value / floor) * 100).toFixed(0)}% of target)`;
  report(v);
  return v;
}

export function all(): readonly Verdict[] {
  return verdicts;
}
