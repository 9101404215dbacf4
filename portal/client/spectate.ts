/**
 * The instructor's view of a student's terminal (/api/class/spectate/:student).
 * Read-only until "Take over": keystrokes are not even sent while watching (and
 * the server drops them anyway). Taking over and giving back are explicit
 * messages the server records and shows the student.
 */
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { MSG, ControlMessage, chunkText, decodeControl, encodeControl } from '../shared/protocol';
import { DisposableStore, Disposable, on } from './dispose';

export type SpyMode = 'connecting' | 'spectate' | 'control' | 'ended' | 'error';

export class SpectateView implements Disposable {
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  private readonly d = new DisposableStore();
  private readonly ws: WebSocket;
  private mode: SpyMode = 'connecting';
  private readonly encoder = new TextEncoder();

  constructor(
    el: HTMLElement,
    student: string,
    private readonly onMode: (m: SpyMode, detail?: string) => void,
  ) {
    this.term = new Terminal({ fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono", monospace', fontSize: 13, scrollback: 2000, theme: { background: '#0f1115', foreground: '#d8dee9' } });
    this.term.loadAddon(this.fit);
    this.term.open(el);
    this.d.add(this.term);
    try {
      this.fit.fit();
    } catch {
      // not laid out yet
    }
    this.d.add(this.term.onData((s) => {
      if (this.mode !== 'control') return; // watching: keystrokes go nowhere
      for (const c of chunkText(s)) this.send(this.encoder.encode(c));
    }));
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.ws = new WebSocket(`${proto}//${location.host}/api/class/spectate/${encodeURIComponent(student)}?cols=${this.term.cols}&rows=${this.term.rows}`);
    this.ws.binaryType = 'arraybuffer';
    this.d.add({ dispose: () => this.ws.readyState <= WebSocket.OPEN && this.ws.close() });
    this.d.add(on(this.ws as any, 'message', (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return this.term.write(new Uint8Array(ev.data as ArrayBuffer));
      const m = decodeControl(ev.data);
      if (!m.ok) return;
      if (m.msg.t === MSG.MODE) this.setMode(m.msg.mode);
      else if (m.msg.t === MSG.ERROR) this.setMode('error', m.msg.message);
      else if (m.msg.t === MSG.EXIT) this.setMode('ended', 'the student has no terminal open');
    }));
    this.d.add(on(this.ws as any, 'close', () => {
      if (this.mode !== 'error' && this.mode !== 'ended') this.setMode('ended', 'disconnected');
    }));
  }

  private setMode(m: SpyMode, detail?: string): void {
    this.mode = m;
    this.onMode(m, detail);
  }

  private send(b: Uint8Array | string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(b);
  }

  control(m: ControlMessage): void {
    this.send(encodeControl(m));
  }

  takeOver(): void {
    this.control({ t: MSG.TAKEOVER });
    this.term.focus();
  }

  giveBack(): void {
    this.control({ t: MSG.RELEASE });
  }

  dispose(): void {
    this.d.dispose();
  }
}
