/**
 * What a workspace copy of the labs leaves out: the files a lab generates when it is run
 * in place (each lab's .gitignore lists them: labs/01-bug-hunt/app/words, app/tmp/,
 * labs/00-warm-up/app/page.txt ...) and what any run leaves behind (core dumps, perf
 * maps, V8 logs, pid files, node_modules). A student's workspace starts as the lab was
 * shipped, not as the last run in the labs directory left it.
 *
 * .gitignore files are read simply, the common subset of gitignore(5): blank lines and
 * `#` comments are skipped; a pattern with a slash (other than a trailing one) is
 * anchored at its .gitignore's directory, one without matches a name at any depth below
 * it; a trailing slash matches directories only; `*`, `?` and `[...]` match within one
 * path segment, `**` across segments. `!` (re-include) lines are not supported and are
 * skipped: the labs use none.
 */
import * as fs from 'fs';
import * as path from 'path';

interface Rule {
  re: RegExp;
  /** Matched against the path relative to the .gitignore's directory (else: the name). */
  anchored: boolean;
  dirOnly: boolean;
  fileOnly?: boolean;
}

const esc = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function globToRe(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] !== '*') re += '[^/]*';
      else if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i++;
      }
    } else if (c === '?') re += '[^/]';
    else if (c === '[' && glob.indexOf(']', i + 2) > 0) {
      const end = glob.indexOf(']', i + 2);
      let cls = glob.slice(i + 1, end);
      if (cls[0] === '!') cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) re += esc(glob[++i]);
    else re += esc(c);
  }
  return re;
}

/** The rules of one .gitignore file's text. */
export function parseIgnore(text: string): Rule[] {
  const rules: Rule[] = [];
  for (let line of text.split('\n')) {
    line = line.replace(/\r$/, '').replace(/(?<!\\)\s+$/, '');
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.includes('/');
    line = line.replace(/^\//, '');
    if (line) rules.push({ re: new RegExp(`^${globToRe(line)}$`), anchored, dirOnly });
  }
  return rules;
}

/**
 * Left behind by any run, wherever it ran (the repository's own .gitignore lists most):
 * core dumps (`core`, `core.<pid>`, `*.core`), perf maps of --perf-basic-prof, V8's
 * --prof logs, pid files, node_modules (the workspace links the labs' own instead).
 */
const LEFT_BEHIND: Rule[] = [
  ...parseIgnore(['node_modules/', '*.core', 'core.[0-9]*', 'isolate-*.log', 'perf-*.map', '*.pid'].join('\n')),
  { re: /^core$/, anchored: false, dirOnly: false, fileOnly: true },
];

function hit(rules: Rule[], rel: string, name: string, isDir: boolean): boolean {
  for (const r of rules) {
    if ((r.dirOnly && !isDir) || (r.fileOnly && isDir)) continue;
    if (r.re.test(r.anchored ? rel : name)) return true;
  }
  return false;
}

/**
 * A filter for fs.cpSync of `root` or anything below it: false for a generated path
 * (by LEFT_BEHIND, or by a .gitignore in `root` or in a directory between it and the
 * path). A skipped directory is not descended into.
 */
export function copyFilter(root: string): (src: string) => boolean {
  const cache = new Map<string, Rule[]>();
  const rulesOf = (dir: string): Rule[] => {
    let r = cache.get(dir);
    if (!r) {
      try {
        r = parseIgnore(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8'));
      } catch {
        r = [];
      }
      cache.set(dir, r);
    }
    return r;
  };
  return (src: string) => {
    const rel = path.relative(root, src);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return true;
    let isDir = false;
    try {
      isDir = fs.lstatSync(src).isDirectory();
    } catch {
      return true; // gone: cpSync says so itself
    }
    const parts = rel.split(path.sep);
    const name = parts[parts.length - 1];
    if (hit(LEFT_BEHIND, name, name, isDir)) return false;
    let dir = root;
    for (let i = 0; i < parts.length; i++) {
      if (hit(rulesOf(dir), parts.slice(i).join('/'), name, isDir)) return false;
      dir = path.join(dir, parts[i]);
    }
    return true;
  };
}
