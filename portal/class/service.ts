/**
 * The class service: create a class from a roster, provision one lab host per
 * student (with progress), reset a student (the old workspace kept as an archive),
 * remove a class. Used by `tracelab class` (src/cli/class.ts) and by the portal.
 *
 * Backends: `--backend local` is the `local-user` LabHost (a Unix user and a
 * sandbox per student on this machine); `ssh` takes an inventory in OpenSSH config
 * format: its Host entries are given to students in roster order, or by name when
 * a Host is the student's id. `vagrant` gives students the class-mode
 * Vagrantfile's machines student-01..NN in roster order (or the Hosts of
 * `vagrant ssh-config` output given as --inventory).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../../src/config';
import { createHost, HOST_BACKENDS } from '../hosts';
import { LabHostError } from '../hosts/types';
import type { LabHost, Progress } from '../hosts/types';
import type { Store } from '../store';
import { RosterStudent } from './roster';
import { CLASS_RE, ClassRow, ClassStore, UserRow } from './store';
import { removeUnixUser } from '../hosts/local-user';
import { mapDiskFull } from '../store/full';

export const BACKENDS = ['local', 'ssh', 'vagrant'] as const;
export type ClassBackend = (typeof BACKENDS)[number];

export class ClassError extends Error {
  constructor(
    readonly code: 'CLASS_EXISTS' | 'CLASS_UNKNOWN' | 'CLASS_BAD_NAME' | 'CLASS_BACKEND' | 'CLASS_INVENTORY' | 'STUDENT_UNKNOWN' | 'STUDENT_TAKEN',
    message: string,
  ) {
    super(message);
    this.name = 'ClassError';
  }
}

/** The LabHost kind a class backend uses. */
export function hostKind(backend: string): string {
  return backend === 'local' ? 'local-user' : backend;
}

export const instructorId = (className: string) => `${className}-instructor`;

/** Host aliases of an OpenSSH config (the inventory), skipping patterns like `*`. */
export function inventoryHosts(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*Host\s+(.+?)\s*$/i.exec(line);
    if (!m) continue;
    for (const h of m[1].split(/\s+/)) if (!/[*?!]/.test(h)) out.push(h);
  }
  return out;
}

export interface Created {
  class: ClassRow;
  instructor: { id: string; token: string };
  students: (RosterStudent & { token: string })[];
}

export interface HostProgress {
  user: string;
  state: 'starting' | 'running' | 'failed';
  percent: number;
  message: string;
}

export class ClassService {
  readonly cs: ClassStore;

  constructor(
    readonly config: Config,
    readonly store: Store,
  ) {
    this.cs = new ClassStore(store);
  }

  create(name: string, roster: RosterStudent[], backend: string, inventoryFile?: string): Created {
    if (!CLASS_RE.test(name)) throw new ClassError('CLASS_BAD_NAME', `class name '${name.slice(0, 40)}' must be 1-31 of a-z 0-9 - (starting with a letter or digit)`);
    if (!(BACKENDS as readonly string[]).includes(backend)) throw new ClassError('CLASS_BACKEND', `unknown backend '${backend}' (choose: ${BACKENDS.join(', ')})`);
    const kind = hostKind(backend);
    if (!HOST_BACKENDS[kind]) throw new ClassError('CLASS_BACKEND', `the ${backend} backend is not available in this installation (available: ${Object.keys(HOST_BACKENDS).join(', ')})`);
    if (this.cs.getClass(name)) throw new ClassError('CLASS_EXISTS', `class ${name} already exists (remove it first: tracelab class remove ${name})`);
    let inventory: Record<string, Record<string, unknown>> | null = null;
    if (backend === 'vagrant' && !inventoryFile) {
      // The class-mode Vagrantfile (vm/) names its machines student-01..NN
      // (TRACELAB_STUDENTS=NN): one per student, in roster order.
      inventory = {};
      roster.forEach((s, i) => (inventory![s.id] = { machine: `student-${String(i + 1).padStart(2, '0')}` }));
    } else if (backend !== 'local') {
      if (!inventoryFile) throw new ClassError('CLASS_INVENTORY', `--backend ${backend} needs --inventory FILE (an OpenSSH config with one Host per student; \`vagrant ssh-config > FILE\` makes one)`);
      const file = path.resolve(inventoryFile);
      if (!fs.existsSync(file)) throw new ClassError('CLASS_INVENTORY', `inventory ${file} does not exist`);
      const hosts = inventoryHosts(fs.readFileSync(file, 'utf8'));
      const byName = new Set(hosts);
      const free = hosts.filter((h) => !roster.some((s) => s.id === h));
      inventory = {};
      for (const s of roster) {
        const h = byName.has(s.id) ? s.id : free.shift();
        if (!h) throw new ClassError('CLASS_INVENTORY', `inventory ${file} has ${hosts.length} Host entries for ${roster.length} students: add one per student`);
        // ssh: the Host alias in the inventory; vagrant: `vagrant ssh-config` names Hosts by machine.
        inventory[s.id] = backend === 'vagrant' ? { machine: h } : { host: h, inventory: file };
      }
    }
    const iid = instructorId(name);
    const users: UserRow[] = [{ id: iid, class: name, role: 'instructor', name: `instructor of ${name}`, email: '' }];
    for (const s of roster) users.push({ id: s.id, class: name, role: 'student', name: s.name, email: s.email });
    for (const u of users) {
      const other = this.cs.user(u.id);
      if (other || u.id === 'self') throw new ClassError('STUDENT_TAKEN', `id '${u.id}' is already used${other ? ` in class ${other.class}` : ''}: give the student another id in the roster's id column`);
    }
    // Within the class: the instructor's id is taken too (the roster checks its own duplicates).
    const dup = roster.find((s) => s.id === iid);
    if (dup) throw new ClassError('STUDENT_TAKEN', `id '${iid}'${dup.line ? ` (roster line ${dup.line})` : ''} is the instructor's id in class ${name}: give the student another id in the roster's id column`);
    this.cs.addClass({ name, backend, inventory, users });
    return {
      class: this.cs.getClass(name)!,
      instructor: { id: iid, token: this.cs.issueJoinToken(iid) },
      students: roster.map((s) => ({ ...s, token: this.cs.issueJoinToken(s.id) })),
    };
  }

  getClass(name: string): ClassRow {
    const c = this.cs.getClass(name);
    if (!c) throw new ClassError('CLASS_UNKNOWN', `no class '${name.slice(0, 40)}' (see: tracelab class list)`);
    return c;
  }

  /** The backend and per-student details for a class student's host; null for everyone else. */
  backendOf(user: string): { kind: string; extra?: Record<string, unknown> } | null {
    const u = this.cs.user(user);
    if (!u || u.role !== 'student') return null;
    const c = this.cs.getClass(u.class);
    if (!c) return null;
    return { kind: hostKind(c.backend), extra: c.inventory?.[user] };
  }

  /** A student's LabHost object (not started), with saved state loaded when there is some. */
  hostOf(user: string): LabHost {
    const b = this.backendOf(user);
    if (!b) throw new ClassError('STUDENT_UNKNOWN', `no student '${user.slice(0, 40)}'`);
    const host = createHost(b.kind, { user, dataDir: this.config.dataDir, labsDir: this.config.labsDir, extra: b.extra });
    const saved = this.store.loadHost(user);
    if (saved && saved.kind === host.kind) host.loadState(saved.state);
    return host;
  }

  /** Start one student's host, reporting progress; saves its state for the portal to re-attach. */
  async startHost(user: string, onProgress: (p: HostProgress) => void, host = this.hostOf(user)): Promise<void> {
    onProgress({ user, state: 'starting', percent: 0, message: 'starting' });
    let done = false;
    const feed = (async () => {
      try {
        for await (const p of host.progress() as AsyncIterable<Progress>) {
          if (done) break;
          onProgress({ user, state: 'starting', percent: p.percent, message: p.message });
        }
      } catch {
        // progress is best-effort; start() says whether it worked
      }
    })();
    try {
      await host.start();
      this.store.saveHost(user, host.kind, host.getState());
      done = true;
      onProgress({ user, state: 'running', percent: 100, message: 'ready' });
    } catch (err) {
      done = true;
      // A workspace copied into a full data dir (the local backend) says so, not ENOSPC.
      const e = mapDiskFull(err, this.config.dataDir);
      onProgress({ user, state: 'failed', percent: 100, message: (e as Error).message });
      throw e;
    } finally {
      void feed;
    }
  }

  /** Start every student's host, `parallel` at a time. Resolves the ones that failed. */
  async provision(name: string, onProgress: (p: HostProgress) => void, parallel = 4): Promise<{ user: string; error: string }[]> {
    const students = this.cs.users(this.getClass(name).name, 'student');
    const failed: { user: string; error: string }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < students.length) {
        const s = students[next++];
        await this.startHost(s.id, onProgress).catch((e) => failed.push({ user: s.id, error: (e as Error).message }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, students.length) }, worker));
    return failed;
  }

  /**
   * Reset a student: end the shell, move the workspace to <data>/archive/<class>/
   * <id>-<time> (remote hosts: beside the workspace, on the host), and start a fresh host.
   *
   * A local workspace is moved by the portal after the shell is stopped. A remote one is
   * moved by the host itself, so it is archived while the host is still up and stopped
   * after: an ssh host refuses exec once stopped, and a vagrant host's stop halts the VM.
   *
   * `host`: the student's host as the caller has it (the portal's, already started);
   * `start`: how to start the fresh one (the portal starts it through its Hosts, so it is
   * watched like any other); default: startHost here.
   */
  async reset(user: string, by: string, onProgress: (p: HostProgress) => void = () => undefined, opts: { host?: LabHost; start?: () => Promise<unknown> } = {}): Promise<string> {
    const u = this.cs.user(user)!;
    const host = opts.host ?? this.hostOf(user);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    let archive: string;
    let undo: () => Promise<unknown>;
    if (host.kind === 'local' || host.kind === 'local-user') {
      await host.stop();
      const dir = path.join(this.config.dataDir, 'archive', u.class);
      archive = path.join(dir, `${user}-${stamp}`);
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        if (fs.existsSync(host.workspace)) fs.renameSync(host.workspace, archive);
        else fs.mkdirSync(archive);
      } catch (e) {
        throw mapDiskFull(e, this.config.dataDir);
      }
      const moved = archive;
      undo = async () => fs.existsSync(host.workspace) || fs.renameSync(moved, host.workspace);
    } else {
      const mv = (from: string, to: string) =>
        host.exec(['sh', '-c', 'if [ -e "$1" ]; then mv -- "$1" "$2"; else mkdir -p -- "$2"; fi', 'sh', from, to], { timeoutMs: 60_000 });
      let r: Awaited<ReturnType<typeof mv>>;
      try {
        archive = `${host.workspace}.archive-${stamp}`;
        r = await mv(host.workspace, archive);
      } catch (e) {
        // A host this portal never started (no saved state, or a halted VM): start it to reach its disk.
        if (!(e instanceof LabHostError && e.code === 'HOST_NOT_STARTED')) throw e;
        await host.start();
        archive = `${host.workspace}.archive-${stamp}`;
        r = await mv(host.workspace, archive);
      }
      if (r.code !== 0) throw new Error(`could not archive ${host.workspace} on the host: ${r.stderr.trim() || r.code}`);
      const moved = archive;
      const ws = host.workspace;
      undo = () => host.exec(['mv', '--', moved, ws], { timeoutMs: 60_000 });
    }
    try {
      this.cs.addEvent({ user, kind: 'reset', by, detail: { archive } });
    } catch (e) {
      // Not recorded (a full data dir): put the workspace back, so nothing happened.
      await undo().catch(() => undefined);
      throw e;
    }
    // The shell (tmux) was started in the workspace that is now the archive: end it.
    if (host.kind !== 'local' && host.kind !== 'local-user') await host.stop();
    if (opts.start) await opts.start();
    else await this.startHost(user, onProgress);
    return archive;
  }

  /** Remove a class: stop its hosts, remove local Unix users, forget it in the store. Workspaces are archived. */
  async remove(name: string): Promise<{ archived: string[] }> {
    const c = this.getClass(name);
    const archived: string[] = [];
    for (const s of this.cs.users(c.name, 'student')) {
      const host = this.hostOf(s.id);
      await host.stop().catch(() => undefined);
      if (host.kind === 'local-user') {
        removeUnixUser(s.id);
        if (fs.existsSync(host.workspace)) {
          const dir = path.join(this.config.dataDir, 'archive', c.name);
          fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
          const to = path.join(dir, `${s.id}-removed-${Date.now()}`);
          fs.renameSync(host.workspace, to);
          archived.push(to);
        }
      }
    }
    this.cs.removeClass(c.name);
    return { archived };
  }
}
