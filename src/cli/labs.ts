/**
 * `tracelab labs`: list the labs found under the labs directory.
 */
import { listLabs, DEFAULT_LABS_ROOT } from '../labs';

export const help = `usage: tracelab labs [--labs DIR] [--json]

List the labs found under labs/*/lab.json (or DIR): id, title and tracks.`;

export async function run(argv: string[]): Promise<number> {
  let dir = DEFAULT_LABS_ROOT;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') json = true;
    else if (argv[i] === '--labs' && argv[i + 1]) dir = argv[++i];
    else {
      console.error(`tracelab labs: unknown option '${argv[i]}'\n\n${help}`);
      return 2;
    }
  }
  const labs = listLabs(dir);
  if (json) {
    console.log(JSON.stringify(labs.map(({ dir: _d, ...l }) => l), null, 2));
    return 0;
  }
  if (!labs.length) {
    console.log(`no labs under ${dir}`);
    return 0;
  }
  const w = Math.max(...labs.map((l) => l.id.length));
  for (const l of labs) console.log(`${l.id.padEnd(w)}  ${l.title}  [${l.tracks.join(', ')}]`);
  return 0;
}
