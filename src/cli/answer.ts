/**
 * `tracelab answer <lab> <step> <value> [--dir DIR]`: record an answer to a lab
 * question in DIR/.tracelab/answers.json; `tracelab check` judges it.
 */
import { resolveLabId, getLab, LabError } from '../labs';
import { saveAnswer, AnswerError } from '../check/answers';
import { defaultDir } from './check';

export const help = `usage: tracelab answer <lab> <step> <value> [--dir DIR]

Record your answer to one of a lab's questions. It is stored in
DIR/.tracelab/answers.json and judged by \`tracelab check <lab>\`, which
measures the answer itself by tracing.

  <lab>      01, 1, 01-bug-hunt or bug-hunt
  <step>     the id of a step that asks a question (see the lab page)
  <value>    your answer (quote it if it has spaces)
  --dir DIR  your copy of the lab (default: $TRACELAB_WORKSPACE/<lab>)

exit status: 0 stored, 2 usage error (unknown lab or step, not a question)`;

export async function run(argv: string[]): Promise<number> {
  const pos: string[] = [];
  let dir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir') {
      dir = argv[++i];
      if (!dir) return usage('--dir needs a directory');
    } else if (a.startsWith('--dir=')) dir = a.slice(6);
    else if (a.startsWith('-') && a.length > 1 && pos.length < 2) return usage(`unknown option '${a}'`);
    else pos.push(a);
  }
  if (pos.length < 3) return usage('expected <lab> <step> <value>');
  const [labArg, step, ...rest] = pos;
  try {
    const lab = getLab(resolveLabId(labArg));
    const d = dir ?? defaultDir(lab.id);
    if (!d) return usage(`no --dir given and TRACELAB_WORKSPACE is not set: pass --dir pointing at your copy of ${lab.id}`);
    const stored = saveAnswer(lab, d, step, rest.join(' '));
    console.log(`${lab.id} ${step}: stored "${stored}" (run \`tracelab check ${lab.id}\` to have it judged)`);
    return 0;
  } catch (e) {
    if (e instanceof LabError || e instanceof AnswerError) return usage(e.message);
    console.error(`tracelab answer: ${(e as Error).message}`);
    return 1;
  }
}

function usage(msg: string): number {
  console.error(`tracelab answer: ${msg}\n\n${help}`);
  return 2;
}
