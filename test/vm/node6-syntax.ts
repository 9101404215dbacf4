/**
 * The Node-6 guard's engine: finds syntax newer than what Node 6.17.1 runs.
 *
 * Lab apps run on Node 6 on the illumos track (jstack() and mdb_v8 stop working
 * after it), so a lab app that uses `?.` runs on Linux and dies with a
 * SyntaxError in the OmniOS box. acorn at ecmaVersion 2015 (what Node 6
 * implements) decides pass/fail; a second parse at the newest level names the
 * construct, so the message says "optional chaining", not "Unexpected token".
 */
import * as acorn from 'acorn';

export interface Finding {
  line: number;
  column: number;
  construct: string;
}

/** Node 6 has all of ES2015 that matters here and nothing later. */
export const NODE6_ECMA = 2015 as const;

function pos(src: string, offset: number): { line: number; column: number } {
  const before = src.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Every newer construct in `src` (empty when it parses as ES2015 script). */
export function findNewerSyntax(src: string): Finding[] {
  // Node keeps a shebang line out of the parse; so do we.
  const code = src.startsWith('#!') ? '//' + src.slice(2) : src;
  let es2015Error: (Error & { pos?: number }) | null = null;
  try {
    acorn.parse(code, { ecmaVersion: NODE6_ECMA, sourceType: 'script' });
    return [];
  } catch (e) {
    es2015Error = e as Error & { pos?: number };
  }
  let ast: any;
  try {
    ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true });
  } catch {
    try {
      acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module' });
      const p = pos(code, es2015Error.pos ?? 0);
      return [{ ...p, construct: 'ES module syntax (import/export): use require() and module.exports' }];
    } catch (e2) {
      const p = pos(code, (e2 as { pos?: number }).pos ?? 0);
      return [{ ...p, construct: `not JavaScript at all: ${(e2 as Error).message}` }];
    }
  }
  const found: Finding[] = [];
  const add = (node: { start: number }, construct: string) => found.push({ ...pos(code, node.start), construct });
  walk(ast, (node, parent) => {
    switch (node.type) {
      case 'AwaitExpression':
        add(node, 'await (ES2017)');
        break;
      case 'ChainExpression':
        add(node, 'optional chaining ?. (ES2020)');
        break;
      case 'LogicalExpression':
        if (node.operator === '??') add(node, 'nullish coalescing ?? (ES2020)');
        break;
      case 'AssignmentExpression':
        if (node.operator === '**=') add(node, 'exponent assignment **= (ES2016)');
        if (['&&=', '||=', '??='].includes(node.operator)) add(node, `logical assignment ${node.operator} (ES2021)`);
        break;
      case 'BinaryExpression':
        if (node.operator === '**') add(node, 'exponent operator ** (ES2016)');
        break;
      case 'SpreadElement':
        if (parent && parent.type === 'ObjectExpression') add(node, 'object spread {...x} (ES2018)');
        break;
      case 'RestElement':
        if (parent && parent.type === 'ObjectPattern') add(node, 'object rest {...x} = (ES2018)');
        break;
      case 'PropertyDefinition':
        add(node, 'class field (ES2022)');
        break;
      case 'StaticBlock':
        add(node, 'class static block (ES2022)');
        break;
      case 'PrivateIdentifier':
        add(node, 'private #name (ES2022)');
        break;
      case 'CatchClause':
        if (!node.param) add(node, 'catch without a binding (ES2019)');
        break;
      case 'ImportExpression':
        add(node, 'dynamic import() (ES2020)');
        break;
      case 'Literal':
        if (typeof node.bigint === 'string') add(node, 'BigInt literal (ES2020)');
        if (node.raw && /^[0-9.]/.test(node.raw) && node.raw.includes('_')) add(node, 'numeric separator (ES2021)');
        if (node.regex && /[sd]/.test(node.regex.flags)) add(node, `regex flag ${node.regex.flags} (ES2018+)`);
        break;
      case 'ForOfStatement':
        if (node.await) add(node, 'for await (ES2018)');
        break;
      case 'CallExpression':
      case 'NewExpression':
        if (node.arguments.length && trailingComma(code, node.arguments[node.arguments.length - 1].end, node.end)) {
          add(node, 'trailing comma in a call (ES2017)');
        }
        break;
    }
    if (/Function/.test(node.type)) {
      if (node.async) add(node, node.generator ? 'async generator (ES2018)' : 'async function (ES2017)');
      const ps = node.params as { end: number }[];
      if (ps.length && node.body && trailingComma(code, ps[ps.length - 1].end, node.body.start)) {
        add(ps[ps.length - 1] as any, 'trailing comma in parameters (ES2017)');
      }
    }
  });
  if (!found.length) {
    // acorn said no at ES2015 but we could not name it: still a failure, with acorn's words.
    found.push({ ...pos(code, es2015Error.pos ?? 0), construct: `newer than ES2015: ${es2015Error.message}` });
  }
  return found.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Is there a "," between the last argument and the closing bracket (comments aside)? */
function trailingComma(code: string, from: number, to: number): boolean {
  const between = code.slice(from, to).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  return /^\s*,/.test(between);
}

function walk(node: any, visit: (n: any, parent: any) => void, parent: any = null): void {
  if (!node || typeof node.type !== 'string') return;
  visit(node, parent);
  for (const key of Object.keys(node)) {
    if (key === 'loc' || key === 'range') continue;
    const v = node[key];
    if (Array.isArray(v)) for (const c of v) walk(c, visit, node);
    else if (v && typeof v === 'object' && typeof v.type === 'string') walk(v, visit, node);
  }
}
