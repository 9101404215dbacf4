/**
 * Class rosters: a CSV file with a header row naming the columns.
 *
 *   name,email[,id]
 *   Ada Lovelace,ada@example.org
 *   "Hopper, Grace",grace@example.org,ghopper
 *
 * `name` is required; `email` and `id` are optional. A student's id (used in URLs,
 * the store, the Unix user `tracelab-<id>`) comes from the `id` column or else from
 * the email's local part or the name, lowercased and cut to ID_MAX characters, with
 * -2, -3... added on clashes. Errors name the line and column (1-based), like a
 * compiler: `roster.csv:4:2: ...`.
 */

export const ID_MAX = 20;
export const ID_RE = /^[a-z0-9][a-z0-9-]{0,19}$/;
export const ROSTER_MAX = 1000;

export interface RosterStudent {
  id: string;
  name: string;
  email: string;
  /** Line of the roster the student came from (for messages). */
  line: number;
}

export class RosterError extends Error {
  readonly code = 'ROSTER_INVALID';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly why: string,
  ) {
    super(`${file}:${line}:${column}: ${why}`);
    this.name = 'RosterError';
  }
}

interface Cell {
  value: string;
  column: number;
}

/** Split CSV text into rows of cells (RFC 4180 quoting), keeping each cell's line and column. */
export function parseCsv(text: string, file = 'roster'): { line: number; cells: Cell[] }[] {
  const rows: { line: number; cells: Cell[] }[] = [];
  let line = 1;
  let col = 1;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // a spreadsheet's BOM
  while (i < text.length) {
    const rowLine = line;
    const cells: Cell[] = [];
    for (;;) {
      const cellCol = col;
      let value = '';
      if (text[i] === '"') {
        i++;
        col++;
        for (;;) {
          if (i >= text.length) throw new RosterError(file, rowLine, cellCol, 'a quoted field is not closed (missing ")');
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              col += 2;
              continue;
            }
            i++;
            col++;
            break;
          }
          if (c === '\n') {
            line++;
            col = 1;
          } else col++;
          value += c;
          i++;
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new RosterError(file, line, col, `unexpected '${text[i]}' after a closing quote (a quote inside a field is written "")`);
        }
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') throw new RosterError(file, line, col, 'a quote in the middle of an unquoted field (quote the whole field: "like ""this""")');
          value += text[i];
          i++;
          col++;
        }
      }
      cells.push({ value, column: cellCol });
      if (text[i] === ',') {
        i++;
        col++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    col = 1;
    // Blank lines are skipped (a trailing newline, spacing in a hand-written file).
    if (!(cells.length === 1 && cells[0].value.trim() === '')) rows.push({ line: rowLine, cells });
  }
  return rows;
}

function slug(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, ID_MAX)
    .replace(/-+$/, '');
}

/** Parse a roster. Throws RosterError naming line and column of the first problem. */
export function parseRoster(text: string, file = 'roster.csv'): RosterStudent[] {
  const rows = parseCsv(text, file);
  if (!rows.length) throw new RosterError(file, 1, 1, 'the roster is empty: the first line must be a header such as name,email');
  const header = rows[0];
  const cols: Record<string, number> = {};
  header.cells.forEach((c, idx) => {
    const name = c.value.trim().toLowerCase();
    if (!['name', 'email', 'id'].includes(name)) throw new RosterError(file, header.line, c.column, `unknown column '${c.value.trim().slice(0, 30)}' in the header (columns: name, email, id)`);
    if (name in cols) throw new RosterError(file, header.line, c.column, `column '${name}' appears twice in the header`);
    cols[name] = idx;
  });
  if (!('name' in cols)) throw new RosterError(file, header.line, 1, "the header has no 'name' column (example header: name,email)");
  if (rows.length - 1 > ROSTER_MAX) throw new RosterError(file, rows[ROSTER_MAX + 1].line, 1, `more than ${ROSTER_MAX} students`);
  const out: RosterStudent[] = [];
  const taken = new Map<string, number>();
  const emails = new Map<string, number>();
  for (const row of rows.slice(1)) {
    if (row.cells.length !== header.cells.length) {
      const c = row.cells[Math.min(row.cells.length, header.cells.length) - 1];
      throw new RosterError(file, row.line, row.cells.length > header.cells.length ? row.cells[header.cells.length].column : c.column, `this row has ${row.cells.length} field(s), the header has ${header.cells.length}`);
    }
    const cell = (k: string) => (k in cols ? row.cells[cols[k]] : null);
    const name = cell('name')!;
    if (!name.value.trim()) throw new RosterError(file, row.line, name.column, 'the name is empty');
    if (name.value.length > 100 || /[\u0000-\u001f\u007f<>]/.test(name.value)) throw new RosterError(file, row.line, name.column, 'a name is at most 100 characters, without control characters or < >');
    const email = cell('email');
    const emailV = email ? email.value.trim() : '';
    if (email && emailV && !/^[^\s@,<>]+@[^\s@,<>]+$/.test(emailV)) throw new RosterError(file, row.line, email.column, `'${emailV.slice(0, 60)}' is not an email address`);
    if (email && emailV) {
      const seen = emails.get(emailV.toLowerCase());
      if (seen) throw new RosterError(file, row.line, email.column, `email ${emailV} is already on line ${seen}`);
      emails.set(emailV.toLowerCase(), row.line);
    }
    const idCell = cell('id');
    let id: string;
    if (idCell && idCell.value.trim()) {
      id = idCell.value.trim();
      if (!ID_RE.test(id)) throw new RosterError(file, row.line, idCell.column, `id '${id.slice(0, 40)}' must be 1-${ID_MAX} of a-z 0-9 - starting with a letter or digit`);
      if (taken.has(id)) throw new RosterError(file, row.line, idCell.column, `id '${id}' is already used on line ${taken.get(id)}`);
    } else {
      const base = slug(emailV ? emailV.split('@')[0] : name.value) || 'student';
      id = base;
      for (let n = 2; taken.has(id); n++) id = `${base.slice(0, ID_MAX - String(n).length - 1)}-${n}`;
    }
    taken.set(id, row.line);
    out.push({ id, name: name.value.trim(), email: emailV, line: row.line });
  }
  if (!out.length) throw new RosterError(file, header.line + 1, 1, 'the roster has a header but no students');
  return out;
}
