/**
 * The portal's configuration, typed in one place.
 *
 * Precedence (later wins): defaults ← environment (TRACELAB_PORT, TRACELAB_HOST,
 * TRACELAB_DATA, TRACELAB_LABS, TRACELAB_HOST_BACKEND, TRACELAB_CHECK_CONCURRENCY) ← config file
 * (`--config FILE`, else <data>/config.json if it exists) ← command-line flags.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_LABS_ROOT, INSTALL_ROOT } from './labs';

export interface Config {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Address to bind; loopback unless told otherwise. */
  host: string;
  /** Data directory: SQLite database, tmux socket, student workspaces. */
  dataDir: string;
  /** Where the labs come from (copied into each workspace on first use). */
  labsDir: string;
  /** LabHost backend for students: 'local' (this machine) by default. */
  hostBackend: string;
  /** The config file that was read, if any. */
  configFile?: string;
  /** Inventory (OpenSSH config format) of lab hosts for the ssh backend. */
  inventory?: string;
  /** Checks run at once; the rest queue (portal/server/check-queue.ts). Default: the cores. */
  checkConcurrency?: number;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Partial_ = { [K in keyof Config]?: Config[K] };

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'tracelab');
}

function parsePort(v: unknown, where: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${where}: port must be an integer 0..65535 (got ${JSON.stringify(v)})`);
  return n;
}

function parseConcurrency(v: unknown, where: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ConfigError(`${where}: check concurrency must be an integer 1..1000 (got ${JSON.stringify(v)})`);
  return n;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || !v) throw new ConfigError(`${where}: must be a non-empty string`);
  return v;
}

function fromEnv(env: NodeJS.ProcessEnv): Partial_ {
  const c: Partial_ = {};
  if (env.TRACELAB_PORT) c.port = parsePort(env.TRACELAB_PORT, 'TRACELAB_PORT');
  if (env.TRACELAB_HOST) c.host = env.TRACELAB_HOST;
  if (env.TRACELAB_DATA) c.dataDir = path.resolve(env.TRACELAB_DATA);
  if (env.TRACELAB_LABS) c.labsDir = path.resolve(env.TRACELAB_LABS);
  if (env.TRACELAB_HOST_BACKEND) c.hostBackend = env.TRACELAB_HOST_BACKEND;
  if (env.TRACELAB_INVENTORY) c.inventory = path.resolve(env.TRACELAB_INVENTORY);
  if (env.TRACELAB_CHECK_CONCURRENCY) c.checkConcurrency = parseConcurrency(env.TRACELAB_CHECK_CONCURRENCY, 'TRACELAB_CHECK_CONCURRENCY');
  return c;
}

const FLAGS: Record<string, keyof Config> = {
  '--port': 'port',
  '--host': 'host',
  '--data': 'dataDir',
  '--labs': 'labsDir',
  '--host-backend': 'hostBackend',
  '--config': 'configFile',
  '--inventory': 'inventory',
  '--check-concurrency': 'checkConcurrency',
};

/** Parse `--flag VALUE` / `--flag=VALUE`. Unknown flags are an error naming the known ones. */
export function parseFlags(argv: string[]): Partial_ {
  const c: Partial_ = {};
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const key = FLAGS[flag];
    if (!key) throw new ConfigError(`unknown option '${argv[i]}' (options: ${Object.keys(FLAGS).join(' ')})`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new ConfigError(`${flag} needs a value`);
    }
    if (key === 'port') c.port = parsePort(value, flag);
    else if (key === 'checkConcurrency') c.checkConcurrency = parseConcurrency(value, flag);
    else if (key === 'dataDir' || key === 'labsDir' || key === 'configFile' || key === 'inventory') (c as any)[key] = path.resolve(str(value, flag));
    else (c as any)[key] = str(value, flag);
  }
  return c;
}

function fromFile(file: string, required: boolean): Partial_ {
  if (!fs.existsSync(file)) {
    if (required) throw new ConfigError(`config file ${file} does not exist`);
    return {};
  }
  let raw: any;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config file ${file}: must be a JSON object`);
  const known = ['port', 'host', 'dataDir', 'labsDir', 'hostBackend', 'inventory', 'checkConcurrency'];
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length) throw new ConfigError(`config file ${file}: unknown key(s) ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const dir = path.dirname(file);
  const c: Partial_ = { configFile: file };
  if (raw.port !== undefined) c.port = parsePort(raw.port, `${file}: port`);
  if (raw.host !== undefined) c.host = str(raw.host, `${file}: host`);
  if (raw.dataDir !== undefined) c.dataDir = path.resolve(dir, str(raw.dataDir, `${file}: dataDir`));
  if (raw.labsDir !== undefined) c.labsDir = path.resolve(dir, str(raw.labsDir, `${file}: labsDir`));
  if (raw.hostBackend !== undefined) c.hostBackend = str(raw.hostBackend, `${file}: hostBackend`);
  if (raw.inventory !== undefined) c.inventory = path.resolve(dir, str(raw.inventory, `${file}: inventory`));
  if (raw.checkConcurrency !== undefined) c.checkConcurrency = parseConcurrency(raw.checkConcurrency, `${file}: checkConcurrency`);
  return c;
}

/** Build the config from defaults, env, file and flags. Throws ConfigError with a clear message. */
export function loadConfig(opts: { argv?: string[]; env?: NodeJS.ProcessEnv } = {}): Config {
  const env = opts.env ?? process.env;
  const defaults: Config = { port: 8080, host: '127.0.0.1', dataDir: defaultDataDir(env), labsDir: DEFAULT_LABS_ROOT, hostBackend: 'local' };
  const e = fromEnv(env);
  const flags = parseFlags(opts.argv ?? []);
  // The default config file lives in the data dir, so find the data dir first without it.
  const dataForFile = flags.dataDir ?? e.dataDir ?? defaults.dataDir;
  const file = flags.configFile ? fromFile(flags.configFile, true) : fromFile(path.join(dataForFile, 'config.json'), false);
  const c: Config = { ...defaults, ...e, ...file, ...flags };
  return validate(c);
}

export function validate(c: Config): Config {
  const inside = (p: string, dir: string) => p === dir || p.startsWith(dir + path.sep);
  if (inside(path.resolve(c.dataDir), INSTALL_ROOT)) {
    throw new ConfigError(`data dir ${c.dataDir} is inside the tracelab installation (${INSTALL_ROOT}); student workspaces must live elsewhere (use --data DIR)`);
  }
  if (!c.host) throw new ConfigError('host must not be empty');
  if (c.hostBackend === 'ssh' && !c.inventory) {
    throw new ConfigError('--host-backend ssh needs --inventory FILE (OpenSSH config format; `vagrant ssh-config > FILE` works)');
  }
  if (c.inventory && !fs.existsSync(c.inventory)) throw new ConfigError(`inventory ${c.inventory} does not exist`);
  return c;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True when `host` is a loopback address (the only safe default: no one else can reach
 * it): localhost, 127.0.0.0/8, ::1 in any spelling, bracketed ([::1]) or IPv4-mapped
 * (::ffff:127.0.0.1, which BlockList matches against the IPv4 rule).
 */
export function isLoopback(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === 'localhost' || h === 'localhost.') return true;
  const v = net.isIP(h);
  return v !== 0 && LOOPBACK.check(h, v === 4 ? 'ipv4' : 'ipv6');
}
