// Types for tracelab's dtrace-provider (see README.md). The API is npm dtrace-provider's;
// addonPath / loadError / traced / MAX_ARGS are tracelab extras (Linux).
export type ArgType = 'int' | 'char *' | 'json' | string;

export interface DTraceProbe {
  readonly name: string;
  /** Calls cb(...extra) only while traced and enabled; fires with the array it returns. */
  fire(cb: (...extra: any[]) => unknown[] | unknown, ...extra: unknown[]): true | undefined;
}

export interface DTraceProvider {
  readonly name: string;
  addProbe(name: string, ...types: ArgType[]): DTraceProbe;
  removeProbe(probe: DTraceProbe): DTraceProbe;
  fire(probeName: string, cb: (...extra: any[]) => unknown[] | unknown, ...extra: unknown[]): true | undefined;
  enable(): void;
  disable(): void;
}

export function createDTraceProvider(name: string, module?: string): DTraceProvider;
/** The .node file to trace (usdt:<addonPath>:tracelab:fire), or null when not loaded. */
export const addonPath: string | null;
/** Why the addon did not load on Linux, or null. */
export const loadError: Error | null;
/** Is a tracer attached to tracelab:fire in this process right now? */
export function traced(): boolean;
/** Probe arguments that fit in arg1..arg5; more are packed into arg5 as a JSON array. */
export const MAX_ARGS: number;
