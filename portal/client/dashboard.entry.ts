/**
 * The instructor's dashboard: students × labs, live over SSE (/api/class/events),
 * host status per student, spectate / take over, reset with confirmation, CSV.
 * On every (re)connect of the event stream the grid is fetched whole, so nothing
 * that happened while disconnected is missed.
 */
import '@xterm/xterm/css/xterm.css';
import { api, ApiError } from './api';
import { DisposableStore, h, on } from './dispose';
import { SpectateView, SpyMode } from './spectate';

interface Cell {
  state: 'not started' | 'in progress' | 'passed' | 'failed';
  message: string;
  checkedAt: number | null;
  checking?: boolean;
}
interface HostStatus {
  state: string;
  percent: number;
  message: string;
}
interface Student {
  id: string;
  name: string;
  email: string;
  host: HostStatus;
  takeover: string | null;
  cells: Record<string, Cell>;
}
interface Grid {
  class: string;
  labs: { id: string; title: string }[];
  students: Student[];
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const cls = (state: string) => state.replace(/ /g, '-');

class Dashboard {
  private grid: Grid | null = null;
  private readonly d = new DisposableStore();
  private spy: SpectateView | null = null;
  private spyStudent: string | null = null;
  private es: EventSource | null = null;

  start(): void {
    this.d.add(on($('spy-close'), 'click', () => this.closeSpy()));
    this.d.add(on($('spy-take'), 'click', () => this.spy?.takeOver()));
    this.d.add(on($('spy-give'), 'click', () => this.spy?.giveBack()));
    this.d.add(on($('grid-body'), 'click', (e) => this.onClick(e)));
    this.d.add(on(window, 'beforeunload', () => this.dispose()));
    this.connect();
  }

  private connect(): void {
    const es = new EventSource('/api/class/events');
    this.es = es;
    this.d.add({ dispose: () => es.close() });
    const live = $('live');
    es.addEventListener('hello', () => {
      live.textContent = 'live';
      live.className = 'live on';
      void this.load();
    });
    es.onerror = () => {
      live.textContent = 'reconnecting…';
      live.className = 'live off';
    };
    es.addEventListener('check', (ev) => {
      const e = JSON.parse((ev as MessageEvent).data);
      const s = this.student(e.user);
      if (!s) return void this.load();
      s.cells[e.lab] = e.cell;
      this.renderCell(s, e.lab);
      this.summary();
    });
    es.addEventListener('host', (ev) => {
      const e = JSON.parse((ev as MessageEvent).data);
      const s = this.student(e.user);
      if (!s) return;
      s.host = { state: e.state, percent: e.percent, message: e.message };
      this.renderHost(s);
    });
    es.addEventListener('takeover', (ev) => {
      const e = JSON.parse((ev as MessageEvent).data);
      const s = this.student(e.user);
      if (!s) return;
      s.takeover = e.active ? e.by : null;
      this.renderWho(s);
    });
    es.addEventListener('reset', () => void this.load());
  }

  private student(id: string): Student | undefined {
    return this.grid?.students.find((s) => s.id === id);
  }

  private async load(): Promise<void> {
    try {
      this.grid = await api<Grid>('/api/class/grid');
    } catch (e) {
      $('grid-body').replaceChildren(h('tr', {}, h('td', { class: 'error' }, `Could not load the class: ${(e as Error).message}`)));
      return;
    }
    this.render();
  }

  private render(): void {
    const g = this.grid!;
    document.title = `${g.class} — tracelab dashboard`;
    $('title').textContent = `class ${g.class}`;
    $('grid-head').replaceChildren(h('th', {}, 'student'), h('th', {}, 'host'), ...g.labs.map((l) => h('th', { class: 'lab', title: l.title }, l.id)), h('th', {}, ''));
    $('grid-body').replaceChildren(
      ...g.students.map((s) =>
        h('tr', { 'data-student': s.id },
          h('td', { class: 'who' }),
          h('td', { class: 'host' }),
          ...g.labs.map((l) => h('td', { class: 'cell', 'data-lab': l.id })),
          h('td', { class: 'actions' },
            h('button', { class: 'btn spectate', type: 'button', 'data-act': 'spectate' }, 'Spectate'), ' ',
            h('button', { class: 'btn reset', type: 'button', 'data-act': 'reset' }, 'Reset…'))),
      ),
    );
    for (const s of g.students) {
      this.renderWho(s);
      this.renderHost(s);
      for (const l of g.labs) this.renderCell(s, l.id);
    }
    this.summary();
  }

  private row(id: string): HTMLElement | null {
    return document.querySelector(`#grid-body tr[data-student="${CSS.escape(id)}"]`);
  }

  private renderWho(s: Student): void {
    const td = this.row(s.id)?.querySelector('td.who');
    if (!td) return;
    td.replaceChildren(s.name, h('small', {}, s.id + (s.email ? ` · ${s.email}` : '')), s.takeover ? h('span', { class: 'takeover-flag' }, `taken over by ${s.takeover}`) : '');
  }

  private renderHost(s: Student): void {
    const td = this.row(s.id)?.querySelector('td.host') as HTMLElement | null;
    if (!td) return;
    td.className = `host ${cls(s.host.state)}`;
    td.dataset.state = s.host.state;
    const bar = s.host.state === 'starting' ? h('progress', { max: '100', value: String(s.host.percent) }) : null;
    td.replaceChildren(...[h('span', { class: 'state' }, s.host.state), bar, s.host.message !== s.host.state ? h('small', { title: s.host.message }, s.host.message) : null].filter((x): x is HTMLElement => !!x));
  }

  private renderCell(s: Student, lab: string): void {
    const td = this.row(s.id)?.querySelector(`td.cell[data-lab="${CSS.escape(lab)}"]`) as HTMLElement | null;
    const c = s.cells[lab];
    if (!td || !c) return;
    td.className = `cell ${cls(c.state)}${c.checking ? ' checking' : ''}`;
    td.dataset.state = c.state;
    td.title = c.message ? `${c.message}${c.checkedAt ? `\n(checked ${new Date(c.checkedAt).toLocaleTimeString()})` : ''}` : c.state;
    td.replaceChildren(h('span', { class: `st ${cls(c.state)}` }, c.checking ? 'checking' : c.state), c.message ? h('span', { class: 'msg' }, c.message) : '');
  }

  private summary(): void {
    const g = this.grid;
    if (!g) return;
    let passed = 0;
    for (const s of g.students) for (const l of g.labs) if (s.cells[l.id]?.state === 'passed') passed++;
    $('summary').textContent = `${g.students.length} students · ${passed} of ${g.students.length * g.labs.length} labs passed`;
  }

  private onClick(e: MouseEvent): void {
    const btn = (e.target as HTMLElement).closest('button[data-act]') as HTMLElement | null;
    if (!btn) return;
    const id = btn.closest('tr')!.getAttribute('data-student')!;
    if (btn.dataset.act === 'spectate') this.openSpy(id);
    else if (btn.dataset.act === 'reset') void this.reset(id);
  }

  private async reset(id: string): Promise<void> {
    const s = this.student(id);
    if (!window.confirm(`Reset ${s ? s.name : id}?\n\nTheir shell is stopped, their workspace is moved to the archive, and they get a fresh copy of the labs. Check results are kept.`)) return;
    try {
      await api(`/api/class/students/${encodeURIComponent(id)}/reset`, { method: 'POST', body: { confirm: id } });
    } catch (err) {
      window.alert(`Reset failed: ${(err as ApiError).message}`);
    }
    void this.load();
  }

  private openSpy(id: string): void {
    this.closeSpy();
    const s = this.student(id);
    $('spy').hidden = false;
    $('spy-name').textContent = s ? `${s.name} (${id})` : id;
    $('spy-msg').hidden = true;
    this.spyStudent = id;
    this.spy = new SpectateView($('spy-term'), id, (m, detail) => this.spyMode(m, detail));
  }

  private spyMode(m: SpyMode, detail?: string): void {
    const el = $('spy-mode');
    el.className = `mode ${m === 'control' ? 'control' : 'spectate'}`;
    el.dataset.mode = m;
    el.textContent = m === 'control' ? 'YOU ARE TYPING in the student\'s shell' : m === 'spectate' ? 'watching (read-only)' : m;
    $('spy-take').hidden = m !== 'spectate';
    $('spy-give').hidden = m !== 'control';
    if (detail) {
      $('spy-msg').hidden = false;
      $('spy-msg').textContent = detail;
    }
  }

  private closeSpy(): void {
    this.spy?.dispose();
    this.spy = null;
    this.spyStudent = null;
    $('spy').hidden = true;
    $('spy-term').replaceChildren();
  }

  dispose(): void {
    this.closeSpy();
    this.d.dispose();
  }
}

new Dashboard().start();
