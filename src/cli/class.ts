/**
 * `tracelab class`: create and manage a class (roster → students, one lab host
 * each, personal join links). Works on the same data dir as `tracelab serve`;
 * a running portal picks changes up from the store.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig, ConfigError, Config } from '../config';

export const help = `usage: tracelab class <command> [options]

commands:
  create NAME --roster FILE --backend local|ssh|vagrant [--inventory FILE]
         [--out FILE] [--url URL] [--no-provision]
      Create class NAME from a CSV roster (header: name,email[,id]), start one
      lab host per student (a progress bar shows how far), and write every
      student's personal join link, and the instructor's, to FILE
      (default NAME-links.csv, mode 0600: the links are passwords).
        local    this machine: a Unix user and a sandbox per student (needs root)
        ssh      one machine per student from --inventory (an OpenSSH config)
        vagrant  like ssh; make the inventory with \`vagrant ssh-config > FILE\`
      --url is the portal's address as students will open it
      (default http://HOST:PORT/ from the portal's config).
  list                              classes, with student counts and backends
  show NAME                         students, host state and results so far
  reset-student NAME STUDENT --yes  archive the student's workspace, start afresh
  link NAME STUDENT [--url URL]     a new one-time join link (the old one stops working)
  remove NAME --yes                 stop and forget the class (workspaces archived)

portal options (as for tracelab serve): --data DIR  --labs DIR  --config FILE
  --port N  --host ADDR

Exit status: 0 ok, 1 something failed (e.g. a host did not start), 2 bad usage.`;

class UsageError extends Error {}

interface Parsed {
  pos: string[];
  opts: Record<string, string | true>;
  portalArgv: string[];
}

const VALUE_OPTS = ['--roster', '--backend', '--inventory', '--out', '--url'];
const BOOL_OPTS = ['--yes', '--no-provision'];
const PORTAL_OPTS = ['--data', '--labs', '--config', '--port', '--host', '--host-backend'];

function parse(argv: string[]): Parsed {
  const p: Parsed = { pos: [], opts: {}, portalArgv: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') && a.startsWith('--') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (VALUE_OPTS.includes(flag)) p.opts[flag] = value();
    else if (BOOL_OPTS.includes(flag)) p.opts[flag] = true;
    else if (PORTAL_OPTS.includes(flag)) p.portalArgv.push(flag, value());
    else if (flag.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
    else p.pos.push(a);
  }
  return p;
}

function need(p: Parsed, n: number, what: string): void {
  if (p.pos.length < n) throw new UsageError(`missing ${what}`);
  if (p.pos.length > n) throw new UsageError(`unexpected argument '${p.pos[n]}'`);
}

/** A one-line progress bar on a terminal; plain lines when output is a file or pipe. */
class Bar {
  private readonly tty = !!process.stderr.isTTY;
  private readonly state = new Map<string, { percent: number; state: string; message: string }>();
  private lastLine = '';

  constructor(private readonly total: number) {}

  update(user: string, s: { percent: number; state: string; message: string }): void {
    const prev = this.state.get(user);
    this.state.set(user, s);
    if (!this.tty) {
      if (!prev || prev.state !== s.state) process.stderr.write(`  ${user}: ${s.state}${s.state === 'failed' ? `: ${s.message}` : ''}\n`);
      return;
    }
    if (s.state === 'failed') {
      this.clear();
      process.stderr.write(`  ${user}: FAILED: ${s.message}\n`);
    }
    this.draw(user, s.message);
  }

  private draw(user: string, message: string): void {
    let sum = 0;
    let ready = 0;
    let failed = 0;
    for (const v of this.state.values()) {
      sum += v.state === 'starting' ? v.percent : 100;
      if (v.state === 'running') ready++;
      if (v.state === 'failed') failed++;
    }
    const pct = Math.floor(sum / this.total);
    const width = 30;
    const fill = Math.round((pct / 100) * width);
    const cols = process.stderr.columns || 80;
    const line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}%  ${ready}/${this.total} ready${failed ? `, ${failed} failed` : ''}  ${user}: ${message}`.slice(0, cols - 1);
    if (line === this.lastLine) return;
    this.lastLine = line;
    process.stderr.write(`\r\x1b[2K${line}`);
  }

  private clear(): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
  }

  done(): void {
    if (this.tty && this.lastLine) process.stderr.write('\n');
  }
}

function baseUrl(config: Config, url: string | true | undefined): string {
  if (typeof url === 'string') {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new UsageError(`--url '${url}' is not a URL (example: http://lab.example.org:8740/)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError('--url must be http:// or https://');
    return u.origin + '/';
  }
  const h = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${h}:${config.port}/`;
}

function csv(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export async function run(argv: string[]): Promise<number> {
  let p: Parsed;
  let config: Config;
  try {
    p = parse(argv);
    config = loadConfig({ argv: p.portalArgv });
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      console.error(`tracelab class: ${e.message}\n(see tracelab class --help)`);
      return 2;
    }
    throw e;
  }
  const [cmd] = p.pos;
  if (!cmd) {
    console.error(`tracelab class: which command? (create, list, show, reset-student, link, remove)\n(see tracelab class --help)`);
    return 2;
  }
  // Loaded here so --help and usage errors stay fast.
  const { openStore } = await import('../../portal/store');
  const { ClassService, ClassError } = await import('../../portal/class/service');
  const { parseRoster, RosterError } = await import('../../portal/class/roster');
  const { LabHostError } = await import('../../portal/hosts/types');
  const store = openStore(config.dataDir);
  const svc = new ClassService(config, store);
  try {
    switch (cmd) {
      case 'create': {
        need(p, 2, 'class name: tracelab class create NAME --roster FILE --backend local|ssh|vagrant');
        const name = p.pos[1];
        const rosterFile = p.opts['--roster'];
        const backend = p.opts['--backend'];
        if (typeof rosterFile !== 'string') throw new UsageError('create needs --roster FILE (a CSV with a header row: name,email)');
        if (typeof backend !== 'string') throw new UsageError('create needs --backend local|ssh|vagrant');
        if (!fs.existsSync(rosterFile)) throw new UsageError(`roster ${rosterFile} does not exist`);
        const base = baseUrl(config, p.opts['--url']);
        const roster = parseRoster(fs.readFileSync(rosterFile, 'utf8'), rosterFile);
        const inv = p.opts['--inventory'];
        const out = path.resolve(typeof p.opts['--out'] === 'string' ? (p.opts['--out'] as string) : `${name}-links.csv`);
        const created = svc.create(name, roster, backend, typeof inv === 'string' ? inv : undefined);
        const lines = ['id,name,email,role,link', [created.instructor.id, `instructor of ${name}`, '', 'instructor', `${base}?token=${created.instructor.token}`].map(csv).join(',')];
        for (const s of created.students) lines.push([s.id, s.name, s.email, 'student', `${base}?token=${s.token}`].map(csv).join(','));
        fs.writeFileSync(out, lines.join('\n') + '\n', { mode: 0o600 });
        console.log(`class ${name}: ${created.students.length} students, backend ${backend}; join links in ${out}`);
        console.log(`instructor link (works once; the dashboard is at ${base}class):\n\n    ${base}?token=${created.instructor.token}\n`);
        if (p.opts['--no-provision']) {
          console.log('hosts not started (--no-provision): each starts when its student first logs in');
          return 0;
        }
        console.error(`starting ${created.students.length} lab hosts...`);
        const bar = new Bar(created.students.length);
        const failed = await svc.provision(name, (x) => bar.update(x.user, x));
        bar.done();
        if (failed.length) {
          console.error(`tracelab class: ${failed.length} of ${created.students.length} hosts did not start:`);
          for (const f of failed) console.error(`  ${f.user}: ${f.error}`);
          console.error(`the class exists; fix the cause and run \`tracelab class reset-student ${name} STUDENT --yes\`, or the host starts when the student logs in`);
          return 1;
        }
        console.log(`all ${created.students.length} hosts running. Start the portal: tracelab serve${p.portalArgv.length ? ' ' + p.portalArgv.join(' ') : ''}`);
        return 0;
      }
      case 'list': {
        need(p, 1, '');
        const classes = svc.cs.classes();
        if (!classes.length) {
          console.log('no classes (create one: tracelab class create NAME --roster FILE --backend local)');
          return 0;
        }
        console.log(`${'class'.padEnd(20)} ${'students'.padStart(8)}  ${'backend'.padEnd(8)}  created`);
        for (const c of classes) console.log(`${c.name.padEnd(20)} ${String(svc.cs.users(c.name, 'student').length).padStart(8)}  ${c.backend.padEnd(8)}  ${new Date(c.createdAt).toISOString()}`);
        return 0;
      }
      case 'show': {
        need(p, 2, 'class name: tracelab class show NAME');
        const c = svc.getClass(p.pos[1]);
        const { listLabs } = await import('../labs');
        const { cellOf } = await import('../../portal/class');
        const labs = listLabs(config.labsDir);
        console.log(`class ${c.name}: backend ${c.backend}, created ${new Date(c.createdAt).toISOString()}`);
        console.log(`${'student'.padEnd(22)} ${'host'.padEnd(10)} ${labs.map((l) => l.id.slice(0, 14).padEnd(14)).join(' ')}`);
        for (const s of svc.cs.users(c.name, 'student')) {
          const host = store.loadHost(s.id) ? 'provisioned' : '-';
          const opened = svc.cs.openedLabs(s.id);
          const cells = labs.map((l) => cellOf(store.lastCheck(s.id, l.id), opened.has(l.id)).state.padEnd(14));
          console.log(`${s.id.padEnd(22)} ${host.padEnd(10)} ${cells.join(' ')}`);
        }
        return 0;
      }
      case 'reset-student': {
        need(p, 3, 'class and student: tracelab class reset-student NAME STUDENT --yes');
        const [, name, id] = p.pos;
        svc.getClass(name);
        const u = svc.cs.user(id);
        if (!u || u.class !== name || u.role !== 'student') throw new ClassError('STUDENT_UNKNOWN', `no student '${id}' in class ${name}`);
        if (!p.opts['--yes']) throw new UsageError(`this archives ${id}'s workspace and starts a fresh one; add --yes to do it`);
        const archive = await svc.reset(id, 'cli');
        console.log(`${id}: workspace archived to ${archive}; fresh host running`);
        return 0;
      }
      case 'link': {
        need(p, 3, 'class and student: tracelab class link NAME STUDENT');
        const [, name, id] = p.pos;
        svc.getClass(name);
        const u = svc.cs.user(id);
        if (!u || u.class !== name) throw new ClassError('STUDENT_UNKNOWN', `no user '${id}' in class ${name}`);
        console.log(`${baseUrl(config, p.opts['--url'])}?token=${svc.cs.issueJoinToken(id)}`);
        return 0;
      }
      case 'remove': {
        need(p, 2, 'class name: tracelab class remove NAME --yes');
        svc.getClass(p.pos[1]);
        if (!p.opts['--yes']) throw new UsageError(`this stops every host of ${p.pos[1]} and forgets its students and results; add --yes to do it`);
        const r = await svc.remove(p.pos[1]);
        console.log(`class ${p.pos[1]} removed${r.archived.length ? `; ${r.archived.length} workspaces archived under ${path.join(config.dataDir, 'archive', p.pos[1])}` : ''}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${cmd}' (create, list, show, reset-student, link, remove)`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tracelab class: ${e.message}\n(see tracelab class --help)`);
      return 2;
    }
    if (e instanceof RosterError) {
      console.error(`tracelab class: bad roster: ${e.message}`);
      return 2;
    }
    if (e instanceof ClassError) {
      console.error(`tracelab class: ${e.message} (${e.code})`);
      return e.code === 'CLASS_UNKNOWN' || e.code === 'STUDENT_UNKNOWN' || e.code === 'CLASS_BAD_NAME' || e.code === 'CLASS_BACKEND' || e.code === 'CLASS_INVENTORY' ? 2 : 1;
    }
    if (e instanceof LabHostError) {
      console.error(`tracelab class: ${e.message} (${e.code})`);
      return 1;
    }
    throw e;
  } finally {
    store.close();
  }
}
