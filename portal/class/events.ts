/**
 * The live event bus behind the dashboard: checks finishing, host status changing,
 * take-overs. Published in-process; delivered to browsers as Server-Sent Events
 * (one-way, reconnects by itself, passes through proxies as plain HTTP).
 */
import { EventEmitter } from 'events';
import type { Response } from 'express';

export type HostState = 'not started' | 'starting' | 'running' | 'dead';

export type ClassEventMsg =
  | { type: 'check'; class: string; user: string; lab: string; cell: Cell }
  | { type: 'host'; class: string; user: string; state: HostState; percent: number; message: string }
  | { type: 'takeover'; class: string; user: string; active: boolean; by: string }
  | { type: 'reset'; class: string; user: string; archive: string };

export type CellState = 'not started' | 'in progress' | 'passed' | 'failed';

export interface Cell {
  state: CellState;
  /** The last check's one-line message (or why it could not run). */
  message: string;
  checkedAt: number | null;
  /** A check is running right now. */
  checking?: boolean;
}

export class ClassBus {
  private readonly em = new EventEmitter();

  constructor() {
    // One listener per open dashboard / student page: a big class has hundreds.
    this.em.setMaxListeners(0);
  }

  publish(e: ClassEventMsg): void {
    this.em.emit('event', e);
  }

  subscribe(fn: (e: ClassEventMsg) => void): () => void {
    this.em.on('event', fn);
    return () => this.em.off('event', fn);
  }
}

const SSE_PING_MS = 20_000;

/**
 * Stream bus events that pass `filter` to one HTTP response as SSE. A comment line
 * every SSE_PING_MS keeps proxies from closing an idle stream.
 */
export function streamSse(res: Response, bus: ClassBus, filter: (e: ClassEventMsg) => boolean, first?: unknown): void {
  res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  const send = (type: string, data: unknown) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  send('hello', first ?? {});
  const off = bus.subscribe((e) => {
    if (filter(e)) send(e.type, e);
  });
  const ping = setInterval(() => res.write(': ping\n\n'), SSE_PING_MS);
  const done = () => {
    clearInterval(ping);
    off();
  };
  res.on('close', done);
  res.on('error', done);
}
