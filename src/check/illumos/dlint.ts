/**
 * dlint: a STATIC check of D scripts (labs/<lab>/illumos/<script>.d) for a machine with no
 * dtrace. It is not `dtrace -e` (which compiles against the running kernel's
 * probes and types); it catches what breaks a lab script before a student ever
 * runs it: probe descriptions that are not provider:module:function:name,
 * unknown providers, unbalanced braces/predicates, calls to actions or
 * subroutines D does not have, variables read but never set (the talk's own
 * `probfunc` typo), `$target` in a script whose header does not say to run it
 * with -c or -p, and comments D does not understand.
 *
 * What it cannot see: whether a probe exists on the host, argument types,
 * translators, and D's type rules. The image build (vm/scripts/90-verify.sh)
 * runs the real thing.
 */

export interface DProblem {
  line: number;
  message: string;
}

/** Providers the labs use; a name may carry a pid or $target suffix or a trailing "*". */
const PROVIDERS = [
  'syscall', 'profile', 'dtrace', 'proc', 'sched', 'io', 'vminfo', 'sysinfo', 'fbt', 'sdt',
  'lockstat', 'plockstat', 'fsinfo', 'ip', 'tcp', 'udp', 'mib', 'pid', 'node', 'fileapp',
  'restify', 'nodeapp', 'javascript', 'usdt', 'tracelab',
];
const PROVIDER_RE = new RegExp(`^(${PROVIDERS.join('|')})(\\*|[0-9]+|\\$target|\\$pid|\\$[0-9])?\\*?$`);
/** Probes named with one field: dtrace's own and the profile provider's. */
const SHORT_PROBE_RE = /^(BEGIN|END|ERROR|tick-[0-9]+(ns|nsec|us|usec|ms|msec|s|sec|m|min|h|hour|d|day|hz)?|profile-[0-9]+(ns|nsec|us|usec|ms|msec|s|sec|m|min|h|hour|d|day|hz)?)$/;

const ACTIONS_AND_SUBROUTINES = new Set([
  // actions
  'trace', 'tracemem', 'printf', 'printa', 'print', 'stack', 'ustack', 'jstack', 'exit', 'stop',
  'raise', 'copyout', 'copyoutstr', 'system', 'breakpoint', 'panic', 'chill', 'speculation',
  'speculate', 'commit', 'discard', 'clear', 'trunc', 'normalize', 'denormalize', 'setopt', 'freopen',
  'ftruncate', 'func', 'ufunc', 'mod', 'umod', 'sym', 'usym', 'uaddr', 'pcap',
  // aggregating functions
  'count', 'sum', 'avg', 'min', 'max', 'stddev', 'quantize', 'lquantize', 'llquantize',
  // subroutines
  'copyin', 'copyinstr', 'copyinto', 'alloca', 'basename', 'dirname', 'bcopy', 'cleanpath',
  'strlen', 'strjoin', 'strchr', 'strrchr', 'strstr', 'strtok', 'substr', 'index', 'rindex',
  'lltostr', 'strtoll', 'toupper', 'tolower', 'htons', 'htonl', 'htonll', 'ntohs', 'ntohl', 'ntohll',
  'inet_ntoa', 'inet_ntoa6', 'inet_ntop', 'json', 'rand', 'mutex_owned', 'mutex_owner',
  'mutex_type_adaptive', 'mutex_type_spin', 'rw_read_held', 'rw_write_held', 'rw_iswriter',
  'getmajor', 'getminor', 'ddi_pathname', 'msgsize', 'msgdsize', 'progenyof', 'strtoll',
  'sizeof', 'offsetof', 'stringof', 'xlate', 'zonename',
]);

const BUILTIN_VARIABLES = new Set([
  'arg0', 'arg1', 'arg2', 'arg3', 'arg4', 'arg5', 'arg6', 'arg7', 'arg8', 'arg9', 'args',
  'caller', 'ucaller', 'cpu', 'curcpu', 'curlwpsinfo', 'curpsinfo', 'curthread', 'cwd', 'epid',
  'errno', 'execname', 'fds', 'gid', 'id', 'ipl', 'pid', 'ppid', 'probefunc', 'probemod',
  'probename', 'probeprov', 'projid', 'root', 'stackdepth', 'ustackdepth', 'taskid', 'tid',
  'timestamp', 'vtimestamp', 'walltimestamp', 'uid', 'uregs', 'zonename', 'self', 'this',
  'curproc', 'NULL', 'TRUE', 'FALSE', 'B_TRUE', 'B_FALSE', 'CLOCK_REALTIME',
]);

const KEYWORDS = new Set([
  'if', 'else', 'return', 'sizeof', 'offsetof', 'stringof', 'xlate', 'inline', 'translator',
  'typedef', 'struct', 'union', 'enum', 'const', 'volatile', 'signed', 'unsigned', 'int', 'char',
  'short', 'long', 'float', 'double', 'void', 'string', 'uint8_t', 'uint16_t', 'uint32_t',
  'uint64_t', 'int8_t', 'int16_t', 'int32_t', 'int64_t', 'uintptr_t', 'intptr_t', 'size_t',
  'ssize_t', 'off_t', 'pid_t', 'uid_t', 'hrtime_t', 'userland', 'extern', 'static', 'register',
  'restrict', 'auto', 'do', 'for', 'while', 'switch', 'case', 'default', 'break', 'continue', 'goto',
]);

const PRAGMA_OPTIONS = new Set([
  'aggpercpu', 'aggrate', 'aggsize', 'aggsortkey', 'aggsortkeypos', 'aggsortpos', 'aggsortrev',
  'aggpack', 'aggzoom', 'bufpolicy', 'bufresize', 'bufsize', 'cleanrate', 'cpu', 'defaultargs',
  'destructive', 'dynvarsize', 'flowindent', 'grabanon', 'jstackframes', 'jstackstrsize', 'nspec',
  'quiet', 'rawbytes', 'specsize', 'stackframes', 'stackindent', 'statusrate', 'strsize',
  'switchrate', 'temporal', 'ustackframes', 'zdefs',
]);

/** Replace comments and string contents by spaces, keeping offsets and newlines. */
function blank(src: string, problems: DProblem[]): string {
  let out = '';
  let i = 0;
  const lineAt = (k: number) => src.slice(0, k).split('\n').length;
  while (i < src.length) {
    const two = src.slice(i, i + 2);
    if (two === '/*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      if (end < 0) problems.push({ line: lineAt(i), message: 'comment /* is never closed' });
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (two === '//') {
      problems.push({ line: lineAt(i), message: 'D has no // comments (dtrace without -C rejects them): use /* */' });
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? src.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (src[i] === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"' && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      if (src[j] !== '"') problems.push({ line: lineAt(i), message: 'string is not closed on its line' });
      out += '"' + ' '.repeat(Math.max(0, j - i - 1)) + (src[j] === '"' ? '"' : '');
      i = j + 1;
    } else {
      out += src[i++];
    }
  }
  return out;
}

/** Statically check one D script; an empty list means nothing was found. */
export function lintD(src: string): DProblem[] {
  const problems: DProblem[] = [];
  const lines = src.split('\n');
  // The header: the first comment block, where USAGE says how to run the script.
  const header = (/\/\*[\s\S]*?\*\//.exec(src) || [''])[0];
  // #! and #pragma lines are the preprocessor's, not D's: check, then blank them.
  const cleaned = lines
    .map((l, i) => {
      if (i === 0 && l.startsWith('#!')) {
        if (!/^#!\/usr\/sbin\/dtrace\s+-[a-zA-Z]*s\b/.test(l)) problems.push({ line: 1, message: 'shebang must run /usr/sbin/dtrace with -s (e.g. #!/usr/sbin/dtrace -qs)' });
        return '';
      }
      const m = /^\s*#\s*(\w+)(.*)$/.exec(l);
      if (!m) return l;
      if (m[1] !== 'pragma') problems.push({ line: i + 1, message: `#${m[1]} needs the C preprocessor (dtrace -C); the labs do not use it` });
      else {
        const opt = /^\s+D\s+option\s+([a-z]+)(=\S+)?\s*$/.exec(m[2]);
        if (!opt) problems.push({ line: i + 1, message: `#pragma must be "#pragma D option NAME[=VALUE]"` });
        else if (!PRAGMA_OPTIONS.has(opt[1])) problems.push({ line: i + 1, message: `unknown D option "${opt[1]}"` });
      }
      return '';
    })
    .join('\n');
  const code = blank(cleaned, problems);
  const lineAt = (k: number) => code.slice(0, k).split('\n').length;

  // Names the script sets: globals, associative arrays, inline/declared names.
  const assigned = new Set<string>();
  for (const m of code.matchAll(/(?<![\w>.$])([A-Za-z_]\w*)/g)) {
    if (isAssignedAt(code, m.index! + m[1].length)) assigned.add(m[1]);
  }
  for (const m of code.matchAll(/\b(?:inline\s+)?(?:self\s+|this\s+)?(?:unsigned\s+|signed\s+)?(?:int|char|short|long|string|uint\d+_t|int\d+_t|uintptr_t|hrtime_t)\s*\**\s*([A-Za-z_]\w*)/g)) assigned.add(m[1]);

  let i = 0;
  let clauses = 0;
  while (i < code.length) {
    // top level: a declaration ending in ";" or a probe clause
    const rest = code.slice(i);
    const lead = /^\s*/.exec(rest)![0].length;
    i += lead;
    if (i >= code.length) break;
    const stop = /[{;/]/.exec(code.slice(i));
    if (!stop) {
      problems.push({ line: lineAt(i), message: `text after the last clause: "${code.slice(i).trim().slice(0, 40)}"` });
      break;
    }
    const at = i + stop.index;
    const descText = code.slice(i, at);
    if (code[at] === ';') {
      if (!/^\s*(inline|self|this|typedef|struct|union|enum|translator|int|char|short|long|unsigned|signed|string|uint\d+_t|int\d+_t)\b/.test(descText)) {
        problems.push({ line: lineAt(i), message: `unexpected "${descText.trim().slice(0, 40)};" at top level` });
      }
      i = at + 1;
      continue;
    }
    clauses++;
    checkDescriptions(descText, lineAt(i), header, problems);
    let j = at;
    if (code[j] === '/') {
      // predicate: up to the "/" that is followed by the clause's "{"
      const end = /\/\s*\{/.exec(code.slice(j + 1));
      if (!end) {
        problems.push({ line: lineAt(j), message: 'predicate /.../ is not followed by a { clause }' });
        break;
      }
      const pred = code.slice(j + 1, j + 1 + end.index);
      if (!pred.trim()) problems.push({ line: lineAt(j), message: 'empty predicate //' });
      checkBalanced(pred, lineAt(j), 'predicate', problems);
      checkExpressions(pred, lineAt(j), assigned, header, problems);
      j = j + 1 + end.index + end[0].length - 1;
    }
    // clause body: to the matching "}"
    let depth = 0;
    let k = j;
    for (; k < code.length; k++) {
      if (code[k] === '{') depth++;
      else if (code[k] === '}' && --depth === 0) break;
    }
    if (depth !== 0) {
      problems.push({ line: lineAt(j), message: 'clause { is never closed' });
      break;
    }
    const body = code.slice(j + 1, k);
    checkBalanced(body, lineAt(j), 'clause', problems);
    checkExpressions(body, lineAt(j + 1), assigned, header, problems);
    i = k + 1;
  }
  if (!clauses) problems.push({ line: 1, message: 'no probe clauses' });
  return problems.sort((a, b) => a.line - b.line);
}

/** After a name at `k`: optional balanced [keys], then an assignment operator? */
function isAssignedAt(code: string, k: number): boolean {
  while (/\s/.test(code[k] || '')) k++;
  if (code[k] === '[') {
    let depth = 0;
    for (; k < code.length; k++) {
      if (code[k] === '[') depth++;
      else if (code[k] === ']' && --depth === 0) break;
    }
    k++;
    while (/\s/.test(code[k] || '')) k++;
  }
  const op = code.slice(k, k + 2);
  return (code[k] === '=' && code[k + 1] !== '=') || ['+=', '-=', '*=', '/=', '++', '--', '|=', '&='].includes(op);
}

function checkDescriptions(text: string, line: number, header: string, problems: DProblem[]): void {
  for (const raw of text.split(',')) {
    const d = raw.trim();
    if (!d) {
      problems.push({ line, message: 'empty probe description' });
      continue;
    }
    if (/\s/.test(d)) {
      problems.push({ line, message: `"${d.slice(0, 50)}" is not a probe description (a missing "{" or ";"?)` });
      continue;
    }
    const fields = d.split(':');
    if (fields.length === 1) {
      if (!SHORT_PROBE_RE.test(d)) problems.push({ line, message: `"${d}" needs 4 fields provider:module:function:name (only BEGIN/END/ERROR/tick-N/profile-N may stand alone)` });
      continue;
    }
    if (fields.length !== 4) {
      // DTrace fills missing fields from the right: syscall::entry means module "syscall", name "entry".
      problems.push({ line, message: `"${d}" has ${fields.length} fields; write all 4, provider:module:function:name (DTrace reads short ones from the right)` });
      continue;
    }
    const [prov, , , name] = fields;
    if (prov && !PROVIDER_RE.test(prov)) problems.push({ line, message: `unknown provider "${prov}" in "${d}"` });
    if (/^(profile|tick)/.test(prov) && name && !SHORT_PROBE_RE.test(name)) problems.push({ line, message: `"${name}" is not a profile/tick probe name` });
    if (prov === 'syscall' && name && !['entry', 'return', '*', ''].includes(name)) problems.push({ line, message: `syscall probes are named entry or return, not "${name}"` });
    if (prov.includes('$target')) needsTargetFlag(header, line, problems);
  }
}

function needsTargetFlag(header: string, line: number, problems: DProblem[]): void {
  if (!/(^|\s)-[a-zA-Z]*[cp]\b/.test(header) && !problems.some((p) => p.message.startsWith('$target'))) {
    problems.push({ line, message: '$target is used but the header does not say to run the script with -c CMD or -p PID' });
  }
}

function checkBalanced(text: string, line: number, what: string, problems: DProblem[]): void {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const ch of text) {
    if ('([{'.includes(ch)) stack.push(ch);
    else if (ch in pairs) {
      if (stack.pop() !== pairs[ch]) {
        problems.push({ line, message: `unbalanced "${ch}" in ${what}` });
        return;
      }
    }
  }
  if (stack.length) problems.push({ line, message: `unclosed "${stack[stack.length - 1]}" in ${what}` });
}

function checkExpressions(text: string, line: number, assigned: Set<string>, header: string, problems: DProblem[]): void {
  const lineOf = (k: number) => line + text.slice(0, k).split('\n').length - 1;
  if (text.includes('$target')) needsTargetFlag(header, line, problems);
  for (const m of text.matchAll(/([A-Za-z_$][\w$]*)\s*\(/g)) {
    const name = m[1];
    const before = text.slice(0, m.index).trimEnd();
    if (before.endsWith('->') || before.endsWith('.')) continue;
    if (KEYWORDS.has(name) || ACTIONS_AND_SUBROUTINES.has(name)) continue;
    problems.push({ line: lineOf(m.index!), message: `${name}() is not a D action or subroutine` });
  }
  for (const m of text.matchAll(/(?<![\w$@>.`])([A-Za-z_][\w]*)\b(?!\s*\()/g)) {
    const name = m[1];
    const before = text.slice(0, m.index).trimEnd();
    if (before.endsWith('->') || before.endsWith('.') || /\b(struct|union|enum)$/.test(before)) continue;
    if (KEYWORDS.has(name) || BUILTIN_VARIABLES.has(name) || assigned.has(name) || ACTIONS_AND_SUBROUTINES.has(name)) continue;
    if (/^[0-9]/.test(name)) continue;
    problems.push({ line: lineOf(m.index!), message: `"${name}" is read but never set (a typo of a built-in variable?)` });
  }
}
