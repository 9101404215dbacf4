/**
 * The tmux control-mode client (portal/hosts/tmux-control.ts) through the local
 * host's openShell: bytes both ways, sizes, a spectator on the same pane, a shell
 * or the control client ending, and flow control. Real tmux, real bash.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { LocalHost } from '../../portal/hosts/local';
import { TmuxControl, unescapeOutput } from '../../portal/hosts/tmux-control';
import type { ShellStream } from '../../portal/hosts/types';
import { tempData, cleanupData, FIXTURE_LABS } from '../server/harness';

const dirs: string[] = [];
let h: LocalHost;
const savedMode = process.env.TRACELAB_TMUX_ATTACH;

before(async () => {
  process.env.TRACELAB_TMUX_ATTACH = 'control';
  // An empty HOME: this machine's ~/.bashrc takes a second (pyenv), the shells here need none.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-home-'));
  dirs.push(home);
  process.env.HOME = home;
  const d = tempData();
  dirs.push(d);
  h = new LocalHost({ user: 'ctl', dataDir: d, labsDir: FIXTURE_LABS });
  await h.start();
});

after(() => {
  if (savedMode === undefined) delete process.env.TRACELAB_TMUX_ATTACH;
  else process.env.TRACELAB_TMUX_ATTACH = savedMode;
  dirs.forEach(cleanupData);
});

/** A shell stream with everything it printed collected as bytes. */
function collect(s: ShellStream): { bytes: () => Buffer; text: () => string; chunks: Buffer[]; exited: Promise<{ exitCode: number }> } {
  const chunks: Buffer[] = [];
  s.onData((d) => chunks.push(typeof d === 'string' ? Buffer.from(d) : Buffer.from(d)));
  const exited = new Promise<{ exitCode: number }>((r) => s.onExit((e) => r(e)));
  return { chunks, bytes: () => Buffer.concat(chunks), text: () => Buffer.concat(chunks).toString('latin1'), exited };
}

async function until(what: string, ok: () => boolean, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function shell(size = { cols: 80, rows: 24 }): Promise<{ s: ShellStream; c: ReturnType<typeof collect> }> {
  const s = await h.openShell(size);
  const c = collect(s);
  // The marker is computed by the shell, so its command line's echo never matches.
  s.write('echo UP$((40+2))\r');
  await until('a prompt', () => /UP42/.test(c.text()));
  return { s, c };
}

test('unescapeOutput: \\ooo becomes the byte, everything else stays as it is', () => {
  const line = Buffer.concat([Buffer.from('%output %1 a\\033[1m\\134\\000'), Buffer.from([0xff, 0xc3]), Buffer.from('z\\015\\012')]);
  assert.deepEqual(unescapeOutput(line, 11), Buffer.concat([Buffer.from('a\x1b[1m\\\x00'), Buffer.from([0xff, 0xc3]), Buffer.from('z\r\n')]));
  assert.deepEqual(unescapeOutput(Buffer.from('%output %1 plain'), 11), Buffer.from('plain'));
});

test('output: every byte value, invalid UTF-8 and escape sequences arrive exactly as the program wrote them', async () => {
  const { s, c } = await shell();
  try {
    const all = Buffer.alloc(256 * 3);
    for (let i = 0; i < all.length; i++) all[i] = i % 256;
    const payload = Buffer.concat([Buffer.from('<<BEGIN-OUT>>'), all, Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('\x1b[31mred\x1b[0m\x1b]0;title\x07\x1b[?1049h\x1b[?1049l'), Buffer.from('<<END-OUT>>')]);
    fs.writeFileSync(path.join(h.workspace, 'out.bin'), payload);
    c.chunks.length = 0;
    // No output processing (-opost), so \n is not turned into \r\n on the way.
    s.write('stty raw -echo; cat out.bin; stty sane\r');
    await until('the payload', () => c.text().includes('<<END-OUT>>'));
    const got = c.bytes();
    const from = got.indexOf('<<BEGIN-OUT>>');
    const to = got.indexOf('<<END-OUT>>') + '<<END-OUT>>'.length;
    assert.ok(from >= 0);
    assert.deepEqual(got.subarray(from, to), payload);
  } finally {
    s.kill();
  }
});

test('input: every byte value 0..255 reaches the program unchanged', async () => {
  const { s, c } = await shell();
  try {
    const file = path.join(h.workspace, 'in.bin');
    fs.rmSync(file, { force: true });
    s.write('stty raw -echo -iexten; echo RE$((1+1))ADY; head -c 512 > in.bin; stty sane; echo FIN$((1+1))ISH\r');
    await until('head waiting', () => /RE2ADY/.test(c.text()));
    const all = Buffer.alloc(512);
    for (let i = 0; i < 512; i++) all[i] = i % 256;
    // In two writes, the second bigger than one send-keys command carries.
    s.write(all.subarray(0, 100));
    s.write(Buffer.concat([all.subarray(100), Buffer.alloc(0)]));
    await until('head done', () => /FIN2ISH/.test(c.text()));
    assert.deepEqual(fs.readFileSync(file), all);
    // A big write is split into several commands and still arrives whole, in order
    // (raw mode: a canonical tty line stops at 4095 bytes).
    s.write("stty raw -echo; echo RE$((2+2))ADY; head -c 50001 | wc -c | tr -d ' ' > n.tmp; mv n.tmp n.txt; stty sane\r");
    await until('wc waiting', () => /RE4ADY/.test(c.text()));
    s.write(Buffer.from('y'.repeat(50_000) + '\n'));
    await until('wc done', () => fs.existsSync(path.join(h.workspace, 'n.txt')) && fs.readFileSync(path.join(h.workspace, 'n.txt'), 'utf8').trim() !== '');
    assert.equal(fs.readFileSync(path.join(h.workspace, 'n.txt'), 'utf8').trim(), '50001');
  } finally {
    s.kill();
  }
});

test('input typed one key per write: what tmux\'s parser would expand (~ $ # ; quotes) arrives as typed', async () => {
  const { s, c } = await shell();
  try {
    const file = path.join(h.workspace, 'keys.txt');
    fs.rmSync(file, { force: true });
    s.write('stty raw -echo; echo RE$((3+3))ADY; head -c 32 > keys.tmp; mv keys.tmp keys.txt; stty sane\r');
    await until('head waiting', () => /RE6ADY/.test(c.text()));
    // A browser sends each keystroke as its own frame, so each of these starts a send-keys string.
    const typed = '~/x ~ $HOME #{pane_id} ; \\ "\' {}'.padEnd(32, '.');
    for (const ch of typed) s.write(ch);
    await until('keys written', () => fs.existsSync(file));
    assert.equal(fs.readFileSync(file, 'utf8'), typed);
  } finally {
    s.kill();
  }
});

/** The shell's idea of its size, via a file (the screen may be mid-redraw). */
async function sttySize(s: ShellStream, c: ReturnType<typeof collect>, tag: string): Promise<string> {
  const f = path.join(h.workspace, `size-${tag}.txt`);
  fs.rmSync(f, { force: true });
  s.write(`stty size > size-${tag}.tmp; mv size-${tag}.tmp size-${tag}.txt\r`);
  await until(`stty size ${tag}`, () => fs.existsSync(f));
  void c;
  return fs.readFileSync(f, 'utf8').trim();
}

test('resize: the window takes the terminal\'s size; a spectator\'s size changes nothing', async () => {
  const { s, c } = await shell({ cols: 80, rows: 24 });
  try {
    assert.equal(await sttySize(s, c, 'a'), '24 80');
    s.resize(100, 30);
    // tmux applies a pane's new size on its own timer, not with the command.
    let now = '';
    for (let i = 0; i < 50 && now !== '30 100'; i++) {
      await sleep(100);
      now = await sttySize(s, c, 'b');
    }
    assert.equal(now, '30 100');
    const spy = await h.openShell({ cols: 50, rows: 10, spectate: true });
    spy.resize(40, 12);
    await sleep(1000);
    assert.equal(await sttySize(s, c, 'c'), '30 100');
    spy.kill();
  } finally {
    s.kill();
  }
});

test('two streams on one pane: the spectator starts with the screen as it is, then both see the same output', async () => {
  const { s, c } = await shell();
  try {
    s.write('echo BEFORE-$((5*5))\r');
    await until('before', () => /BEFORE-25/.test(c.text()));
    const spy = await h.openShell({ cols: 80, rows: 24, spectate: true });
    const sc = collect(spy);
    // Its first bytes are a redraw of the current screen, which already shows BEFORE-25.
    await until('the spectator\'s redraw', () => /BEFORE-25/.test(sc.text()));
    spy.write('echo FROM-SPY-$((6*6))\r'); // the portal, not the host, keeps a spectator's keys out
    s.write('echo AFTER-$((7*7))\r');
    await until('after, on both', () => /AFTER-49/.test(c.text()) && /AFTER-49/.test(sc.text()));
    // Detaching the spectator leaves the student's stream alone.
    spy.kill();
    s.write('echo STILL-$((8*8))\r');
    await until('still', () => /STILL-64/.test(c.text()));
  } finally {
    s.kill();
  }
});

test('a shell that ends fires onExit on every stream on it; the next openShell starts a new shell', async () => {
  const { s, c } = await shell();
  const spy = await h.openShell({ cols: 80, rows: 24, spectate: true });
  const sc = collect(spy);
  const pid = s.pid;
  s.write('exit\r');
  assert.deepEqual(await c.exited, { exitCode: 0 });
  assert.deepEqual(await sc.exited, { exitCode: 0 });
  const again = await shell();
  try {
    assert.notEqual(again.s.pid, pid);
    // A spectator of a student with no session gets a clear error, not a session.
    again.s.write('exit\r');
    await again.c.exited;
    await assert.rejects(h.openShell({ cols: 80, rows: 24, spectate: true }), /no terminal session/);
  } finally {
    again.s.kill();
  }
});

test('the control client dying ends every stream; the next openShell brings a new one to the same shell', async () => {
  const a = await shell();
  const b = await h.openShell({ cols: 80, rows: 24 });
  const bc = collect(b);
  const ctl = await TmuxControl.get({ tmuxArgs: h.tmuxArgs(), env: {} });
  process.kill(ctl.pid, 'SIGKILL');
  assert.equal((await a.c.exited).exitCode, 1);
  assert.equal((await bc.exited).exitCode, 1);
  const again = await shell();
  try {
    assert.equal(again.s.pid, a.s.pid, 'the same shell, found again');
    const ctl2 = await TmuxControl.get({ tmuxArgs: h.tmuxArgs(), env: {} });
    assert.notEqual(ctl2.pid, ctl.pid);
  } finally {
    again.s.kill();
  }
  // The whole tmux server killed: same story, and a fresh server and shell after it.
  const c = await shell();
  spawnSync('tmux', h.tmuxArgs('kill-server'));
  assert.equal((await c.c.exited).exitCode, 1);
  const fresh = await shell();
  try {
    assert.notEqual(fresh.s.pid, c.s.pid);
  } finally {
    fresh.s.kill();
  }
});

test('flow control: pause holds output back, resume delivers all of it in order; a long pause ends in a redraw', async () => {
  const { s, c } = await shell();
  try {
    c.chunks.length = 0;
    const flag = (n: string) => path.join(h.workspace, n);
    fs.rmSync(flag('done.flag'), { force: true });
    fs.rmSync(flag('end.flag'), { force: true });
    s.pause();
    s.write('for i in $(seq 1 2000); do echo line-$i; done; echo DONE-$((9*9)); touch done.flag\r');
    // The shell has finished writing (the flag), and tmux has had time to pass it on.
    await until('the loop done', () => fs.existsSync(flag('done.flag')));
    await sleep(300);
    assert.equal(c.bytes().length, 0, 'nothing arrives while paused');
    s.resume();
    await until('held output', () => /DONE-81/.test(c.text()));
    const lines = c.text().match(/line-\d+/g) || [];
    assert.deepEqual(lines, Array.from({ length: 2000 }, (_, i) => `line-${i + 1}`), 'every line, in order, once');
    // More than a paused stream holds: it gets the screen as it is now instead.
    c.chunks.length = 0;
    s.pause();
    s.write('seq 1 400000; echo END-$((11*11)); touch end.flag\r');
    await until('seq done', () => fs.existsSync(flag('end.flag')), 60000);
    await sleep(300);
    assert.equal(c.bytes().length, 0);
    s.resume();
    await until('the redraw', () => /END-121/.test(c.text()));
    assert.match(c.text(), /\x1b\[H\x1b\[2J/, 'a redraw, not the stream');
    assert.match(c.text(), /400000/);
    assert.ok(c.bytes().length < 100_000, `${c.bytes().length} bytes: the screen, not 2.7 MB of numbers`);
    s.write('echo AFTER-$((12*12))\r');
    await until('live again', () => /AFTER-144/.test(c.text()));
  } finally {
    s.kill();
  }
});

test('stop() ends the shell even though its window is linked into the control client\'s session', async () => {
  const { s, c } = await shell();
  await h.stop();
  assert.equal((await c.exited).exitCode, 0);
  const has = spawnSync('tmux', h.tmuxArgs('has-session', '-t', `=${h.session}`));
  assert.notEqual(has.status, 0);
  await h.start();
  s.kill();
});

/**
 * A portal killed (-9) during heavy output can leave its control client attached:
 * tmux 3.3a keeps it when it is owed output it can no longer write, and a kill-server
 * then wedges with the server and every shell left running (seen in the faults tests;
 * whether a given kill leaves one depends on what was in flight). The next portal's
 * control client drops such an orphan first. The orphan here is made deterministic:
 * a control client attached to MUX whose parent is a shell, not a portal (node).
 */
test('a control client left by a dead portal is dropped by the next portal, and kill-server then ends everything', { timeout: 60_000 }, async () => {
  const d = tempData();
  const sock = path.join(d, 'tmux.sock');
  const alive = () => spawnSync('pgrep', ['-f', `^tmux -S ${sock} `], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  let holder: ReturnType<typeof spawn> | null = null;
  try {
    const h2 = new LocalHost({ user: 'orphan', dataDir: d, labsDir: FIXTURE_LABS });
    await h2.start();
    const s = await h2.openShell({ cols: 80, rows: 24 });
    const c1 = collect(s);
    s.write('echo before-$((6*7))\r');
    await until('the first shell to answer', () => c1.text().includes('before-42'));
    // Our own control client goes (as a dead portal's would); the shell runs on.
    (await TmuxControl.get({ tmuxArgs: h2.tmuxArgs(), env: process.env as Record<string, string> })).kill();
    const args = h2.tmuxArgs('-C', 'attach-session', '-t', '=_tracelab').map((a) => `'${a}'`).join(' ');
    holder = spawn('sh', ['-c', `sleep 600 | tmux ${args} > /dev/null`], { detached: true, stdio: 'ignore' });
    const list = () => spawnSync('tmux', h2.tmuxArgs('list-clients', '-t', '=_tracelab', '-F', '#{client_pid} #{client_control_mode}'), { encoding: 'utf8' }).stdout.trim();
    await until('the orphan to attach', () => /^\d+ 1$/m.test(list()));
    const orphan = list().split(' ')[0];
    // The next portal: a shell opens and works, and the orphan is gone.
    const s2 = await h2.openShell({ cols: 80, rows: 24 });
    const c2 = collect(s2);
    s2.write('echo orphan-$((6*7))\r');
    await until("the new portal's shell to answer", () => c2.text().includes('orphan-42'), 30_000);
    const gone = () => !list().split('\n').some((l) => l.startsWith(orphan + ' '));
    const by = Date.now() + 5000;
    while (!gone() && Date.now() < by) await sleep(100);
    assert.ok(gone(), `the orphan ${orphan} was dropped (clients now: ${list()})`);
    (await TmuxControl.get({ tmuxArgs: h2.tmuxArgs(), env: process.env as Record<string, string> })).kill();
    // kill-server ends the server and every client: nothing names the socket any more.
    spawnSync('tmux', h2.tmuxArgs('kill-server'), { stdio: 'ignore', timeout: 10_000 });
    const end = Date.now() + 5000;
    while (alive().length && Date.now() < end) await sleep(100);
    assert.deepEqual(alive(), [], 'no tmux process left after kill-server');
  } finally {
    if (holder?.pid) {
      try {
        process.kill(-holder.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    cleanupData(d);
  }
});
