/**
 * Rosters: ids derived and unique, and every kind of bad input named by line and column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoster, RosterError } from '../../portal/class/roster';

test('a roster: quoted names, derived ids from email or name, clashes numbered, BOM and CRLF', () => {
  const r = parseRoster('\ufeffname,email\r\nAda Lovelace,ada@example.org\r\n"Hopper, Grace",\r\n"Zoë ""Z"" Ng",z@x.org\r\nAda Other,ada@other.org\r\n\r\n');
  assert.deepEqual(r.map((s) => [s.id, s.name, s.email, s.line]), [
    ['ada', 'Ada Lovelace', 'ada@example.org', 2],
    ['hopper-grace', 'Hopper, Grace', '', 3],
    ['z', 'Zoë "Z" Ng', 'z@x.org', 4],
    ['ada-2', 'Ada Other', 'ada@other.org', 5],
  ]);
});

test('an id column is used as given and checked', () => {
  const r = parseRoster('id,name\ns01,One\ns02,Two\n');
  assert.deepEqual(r.map((s) => s.id), ['s01', 's02']);
});

const bad: [string, string, RegExp][] = [
  ['', 'r.csv:1:1', /empty/],
  ['email\nx@y\n', 'r.csv:1:1', /no 'name' column/],
  ['name,phone\nA,1\n', 'r.csv:1:6', /unknown column 'phone'/],
  ['name,email\nA,a@x\nB\n', 'r.csv:3:1', /1 field\(s\), the header has 2/],
  ['name,email\nA,a@x,extra\n', 'r.csv:2:7', /3 field\(s\)/],
  ['name,email\nA,not-an-email\n', 'r.csv:2:3', /not an email/],
  ['name,email\nA,a@x\nB,a@x\n', 'r.csv:3:3', /already on line 2/],
  ['name,email\n,a@x\n', 'r.csv:2:1', /name is empty/],
  ['name,email\nBob,"b"x\n', 'r.csv:2:8', /after a closing quote/],
  ['name,email\nBob,"b@x\n', 'r.csv:2:5', /not closed/],
  ['name,email\nBo"b,b@x\n', 'r.csv:2:3', /quote in the middle/],
  ['id,name\nBAD ID,A\n', 'r.csv:2:1', /must be 1-20/],
  ['id,name\ns1,A\ns1,B\n', 'r.csv:3:1', /already used on line 2/],
  ['name,email\n', 'r.csv:2:1', /no students/],
  ['name\n<script>,\n', 'r.csv:2:10', /2 field\(s\), the header has 1/],
  ['name\n<script>\n', 'r.csv:2:1', /without control characters or < >/],
];

for (const [text, where, why] of bad) {
  test(`bad roster ${JSON.stringify(text.slice(0, 30))} → ${where}`, () => {
    assert.throws(
      () => parseRoster(text, 'r.csv'),
      (e: unknown) => {
        assert.ok(e instanceof RosterError, String(e));
        assert.equal(e.message.slice(0, where.length + 1), `${where}:`, e.message);
        assert.match(e.message, why);
        return true;
      },
    );
  });
}
