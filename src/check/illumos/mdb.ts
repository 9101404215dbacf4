/**
 * Parsers for mdb(1) with mdb_v8 (`::load v8`) output, used by the illumos-track
 * post-mortem checker (lab 5): `::findjsobjects` tables and `::jsprint` objects.
 *
 * Both are printed for humans, so the parsers accept what mdb prints and what a
 * terminal or slide does to it (wrapped property lists, "..." elisions, mdb's
 * own "mdb: ..." warnings interleaved with objects).
 */

export interface JsObjectGroup {
  /** A representative object's address (hex, as printed, without 0x). */
  addr: string;
  /** How many objects share this shape. */
  objects: number;
  /** How many properties the shape has. */
  props: number;
  /** Constructor name as printed ("Object", "Array", "<anonymous> (as <anon>)"). */
  constructor: string;
  /** Property names printed after "CONSTRUCTOR:" (may be cut short by mdb with "..."). */
  propNames: string[];
}

const FJO_HEADER = /^\s*OBJECT\s+#OBJECTS\s+#PROPS\s+CONSTRUCTOR:?\s*PROPS\s*$/;
const FJO_ROW = /^\s*(?:0x)?([0-9a-f]{6,16})\s+(\d+)\s+(\d+)\s+(.*)$/i;

/** Rows of `::findjsobjects` (with or without the header line). */
export function parseFindJsObjects(text: string): JsObjectGroup[] {
  const out: JsObjectGroup[] = [];
  let last: JsObjectGroup | null = null;
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || FJO_HEADER.test(line) || /^>\s*/.test(t) && !/^>\s*\S/.test(t)) continue;
    const m = FJO_ROW.exec(line);
    if (m) {
      const rest = m[4];
      const colon = splitConstructor(rest);
      last = {
        addr: m[1].toLowerCase(),
        objects: Number(m[2]),
        props: Number(m[3]),
        constructor: colon.cons,
        propNames: splitProps(colon.props),
      };
      out.push(last);
      continue;
    }
    if (t === '...' || t.startsWith('>') || t.startsWith('mdb:')) {
      last = null;
      continue;
    }
    // A wrapped property list continues the previous row.
    if (last) last.propNames.push(...splitProps(t));
  }
  return out;
}

/** "NativeModule: filename, id" → cons NativeModule; "<anonymous> (as <anon>)" has no props. */
function splitConstructor(rest: string): { cons: string; props: string } {
  const i = rest.indexOf(': ');
  if (i < 0) return { cons: rest.trim().replace(/:$/, ''), props: '' };
  return { cons: rest.slice(0, i).trim(), props: rest.slice(i + 2) };
}

function splitProps(s: string): string[] {
  return s
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p && p !== '...');
}

/** Groups whose constructor is `name` (exact), largest first. */
export function groupsByConstructor(groups: JsObjectGroup[], name: string): JsObjectGroup[] {
  return groups.filter((g) => g.constructor === name).sort((a, b) => b.objects - a.objects);
}

/**
 * A value printed by `::jsprint`. Strings, numbers, booleans, null and undefined
 * come back as themselves; objects and arrays as such; anything else mdb prints
 * (`function Script`, `<hole>`, an empty value after a broken read) as
 * `{ $raw: text }` so a checker can still see it.
 */
export type JsValue = string | number | boolean | null | undefined | JsValue[] | { [k: string]: JsValue } | { $raw: string };

export interface JsPrintResult {
  /** Top-level values, in order. */
  values: JsValue[];
  /** mdb's warnings printed between them ("mdb: 99c08525: unknown JavaScript object type "Map""). */
  warnings: string[];
}

class Cursor {
  i = 0;
  constructor(public readonly s: string) {}
  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }
  peek(): string {
    return this.s[this.i];
  }
  done(): boolean {
    return this.i >= this.s.length;
  }
}

/** Parse `::jsprint` output (one or many objects, e.g. from `ADDR::findjsobjects | ::jsprint`). */
export function parseJsPrint(text: string): JsPrintResult {
  const warnings: string[] = [];
  const kept: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t.startsWith('mdb:')) warnings.push(t);
    else if (t === '...' || /^>\s*$/.test(t) || /^>\s*\S*::/.test(t)) continue;
    else kept.push(line);
  }
  const c = new Cursor(kept.join('\n'));
  const values: JsValue[] = [];
  for (;;) {
    c.ws();
    if (c.done()) break;
    const before = c.i;
    values.push(parseValue(c, '\n'));
    if (c.i === before) c.i++; // never loop on text we cannot read
  }
  return { values, warnings };
}

function parseValue(c: Cursor, stop: string): JsValue {
  c.ws();
  const ch = c.peek();
  if (ch === '{') return parseObject(c);
  if (ch === '[') return parseArray(c);
  if (ch === '"') return parseString(c);
  // A bare token runs to the end of the line, a "," or the closing bracket (mdb
  // prints "exports: function Script," and "id: ," after a failed read).
  let j = c.i;
  while (j < c.s.length && c.s[j] !== '\n' && c.s[j] !== ',' && !(stop !== '\n' && c.s[j] === stop)) j++;
  const tok = c.s.slice(c.i, j).trim();
  c.i = j;
  if (tok === '') return { $raw: '' };
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(tok)) return Number(tok);
  if (tok === 'true') return true;
  if (tok === 'false') return false;
  if (tok === 'null') return null;
  if (tok === 'undefined') return undefined;
  return { $raw: tok };
}

function parseString(c: Cursor): string {
  // mdb prints JS strings in double quotes with C-style escapes.
  let out = '';
  c.i++;
  while (!c.done() && c.peek() !== '"') {
    if (c.peek() === '\\' && c.i + 1 < c.s.length) {
      const e = c.s[c.i + 1];
      out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
      c.i += 2;
    } else out += c.s[c.i++];
  }
  c.i++;
  return out;
}

function skipComma(c: Cursor): void {
  c.ws();
  if (c.peek() === ',') c.i++;
}

function parseObject(c: Cursor): { [k: string]: JsValue } {
  const obj: { [k: string]: JsValue } = {};
  c.i++; // {
  for (;;) {
    c.ws();
    if (c.done()) return obj;
    if (c.peek() === '}') {
      c.i++;
      return obj;
    }
    const m = /^("(?:[^"\\]|\\.)*"|[^\s:{}[\],]+)\s*:/.exec(c.s.slice(c.i));
    if (!m) {
      // not "key:" — skip the line rather than guess
      const nl = c.s.indexOf('\n', c.i);
      c.i = nl < 0 ? c.s.length : nl + 1;
      continue;
    }
    const key = m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
    c.i += m[0].length;
    // an empty value ("id: ,") is what mdb prints when it cannot read the property
    const rest = /^[ \t]*,/.exec(c.s.slice(c.i));
    if (rest) {
      obj[key] = { $raw: '' };
      c.i += rest[0].length;
      continue;
    }
    obj[key] = parseValue(c, '}');
    skipComma(c);
  }
}

function parseArray(c: Cursor): JsValue[] {
  const arr: JsValue[] = [];
  c.i++; // [
  for (;;) {
    c.ws();
    if (c.done()) return arr;
    if (c.peek() === ']') {
      c.i++;
      return arr;
    }
    const before = c.i;
    arr.push(parseValue(c, ']'));
    skipComma(c);
    if (c.i === before) c.i++;
  }
}
