/**
 * `tracelab serve`: start the portal on this machine and print the login URL.
 */
import { loadConfig, isLoopback, ConfigError } from '../config';

export const help = `usage: tracelab serve [options]

Start the tracelab portal (lab pages + browser terminals) and print a login URL
carrying a one-time token. Open it in a browser on this machine.

options:
  --port N             TCP port (default 8080; 0 picks a free port)      env TRACELAB_PORT
  --host ADDR          address to bind (default 127.0.0.1)                env TRACELAB_HOST
  --data DIR           data dir: database, tmux socket, workspaces        env TRACELAB_DATA
                       (default $XDG_DATA_HOME/tracelab or ~/.local/share/tracelab)
  --labs DIR           labs directory (default: this installation's labs/) env TRACELAB_LABS
  --host-backend KIND  lab host backend (default local)                   env TRACELAB_HOST_BACKEND
                       local | local-user | ssh | vagrant
  --inventory FILE     lab hosts for --host-backend ssh, in OpenSSH config
                       format (\`vagrant ssh-config > FILE\` works)       env TRACELAB_INVENTORY
  --check-concurrency N  checks run at once, the rest queue in order
                       (default: the number of cores)                     env TRACELAB_CHECK_CONCURRENCY
  --config FILE        JSON config file (default <data>/config.json if present)

Precedence: defaults < environment < config file < flags. Ctrl-C stops the portal;
terminal sessions (tmux) keep running and are re-attached on the next start.`;

export async function run(argv: string[]): Promise<number> {
  let config;
  try {
    config = loadConfig({ argv });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`tracelab serve: ${e.message}\n(see tracelab serve --help)`);
      return 2;
    }
    throw e;
  }
  // Loaded here, not at the top, so `--help` and config errors stay fast.
  const { buildApp } = await import('../../portal/server/app');
  const { HOST_BACKENDS } = await import('../../portal/hosts');
  if (!HOST_BACKENDS[config.hostBackend]) {
    console.error(`tracelab serve: unknown host backend '${config.hostBackend}' (known: ${Object.keys(HOST_BACKENDS).join(', ')})`);
    return 2;
  }
  // The ssh backend's factory reads the inventory from here (portal/hosts/ssh.ts).
  if (config.inventory) process.env.TRACELAB_INVENTORY = config.inventory;
  let portal;
  try {
    portal = buildApp(config);
  } catch (e) {
    // Typically an unwritable or corrupt data dir: say which, not a stack trace.
    console.error(`tracelab serve: cannot open the data dir ${config.dataDir}: ${(e as Error).message}`);
    return 1;
  }
  let where;
  try {
    where = await portal.listen();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? `port ${config.port} is in use (choose another with --port N, or --port 0 for a free one)` : err.code === 'EADDRNOTAVAIL' ? `address ${config.host} is not on this machine` : err.message;
    console.error(`tracelab serve: cannot listen on ${config.host}:${config.port}: ${why}`);
    await portal.close().catch(() => undefined);
    return 1;
  }
  if (!isLoopback(config.host)) {
    console.error(`tracelab serve: WARNING: listening on ${config.host}, not loopback: anyone who can reach this address and gets the login link gets a shell on this machine.`);
  }
  console.log(`tracelab portal: labs from ${config.labsDir}, data in ${config.dataDir}, host backend ${config.hostBackend}`);
  const classes = portal.classMode.cs.classes();
  if (classes.length) {
    // Class mode: everyone logs in with their own join link; no local learner's link to leak.
    console.log(`Class mode (${classes.map((c) => c.name).join(', ')}): students and instructors log in with the links from \`tracelab class create\`;\na new one-time link: tracelab class link CLASS ID. The dashboard is at ${where.url}class\n`);
  } else {
    const token = portal.issueLoginToken('self');
    console.log(`Open this URL to log in (it works once):\n\n    ${where.url}?token=${token}\n`);
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      console.error(`tracelab serve: ${sig}: shutting down (terminal sessions keep running)`);
      const force = setTimeout(() => resolve(0), 5000);
      force.unref();
      portal.close().then(() => {
        clearTimeout(force);
        resolve(0);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
