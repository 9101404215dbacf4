/**
 * `tracelab` command dispatcher. Each subcommand lives in src/cli/<name>.ts and
 * exports `run(argv: string[]): Promise<number>` (the exit code) and `help: string`.
 * Modules are loaded lazily so `tracelab check` on a lab host never loads the portal.
 */
const COMMANDS: Record<string, { file: string; summary: string }> = {
  serve: { file: './cli/serve', summary: 'start the portal (web UI + terminals)' },
  check: { file: './cli/check', summary: "run a lab's checker against an app directory" },
  answer: { file: './cli/answer', summary: "record an answer to a lab's question" },
  labs: { file: './cli/labs', summary: 'list the labs found under labs/' },
  class: { file: './cli/class', summary: 'create and manage a class (roster, hosts, links)' },
  doctor: { file: './cli/doctor', summary: 'check this machine has what the labs need' },
};

function usage(): string {
  const names = Object.keys(COMMANDS).filter((n) => moduleExists(COMMANDS[n].file));
  const width = Math.max(...names.map((n) => n.length));
  return [
    'usage: tracelab <command> [options]',
    '',
    'commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].summary}`),
    '',
    'Run `tracelab <command> --help` for the options of one command.',
  ].join('\n');
}

function moduleExists(file: string): boolean {
  try {
    require.resolve(file);
    return true;
  } catch {
    return false;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    console.log(require('../../package.json').version);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd || !moduleExists(cmd.file)) {
    console.error(`tracelab: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = require(cmd.file) as { run(argv: string[]): Promise<number>; help: string };
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(mod.help);
    return 0;
  }
  return mod.run(rest);
}
