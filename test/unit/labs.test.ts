import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listLabs, getLab, LabError } from '../../src/labs';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'labs');

test('labs are discovered from */lab.json, in id order', () => {
  const labs = listLabs(FIXTURES);
  assert.deepEqual(labs.map((l) => l.id), ['00-hello', '01-second']);
  assert.equal(labs[0].title, 'Hello, terminal');
  assert.deepEqual(labs[0].tracks, ['linux', 'illumos']);
  assert.equal(labs[0].steps[1].question, 'What is 6 times 7?');
  assert.equal(labs[0].steps[2].check, true);
});

test('a directory without lab.json, or with a bad name, is not a lab', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-labs-'));
  try {
    fs.cpSync(FIXTURES, dir, { recursive: true });
    fs.mkdirSync(path.join(dir, '02-empty'));
    fs.mkdirSync(path.join(dir, 'Not-A-Lab'));
    fs.writeFileSync(path.join(dir, 'Not-A-Lab', 'lab.json'), '{}');
    assert.deepEqual(listLabs(dir).map((l) => l.id), ['00-hello', '01-second']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown and hostile lab ids are refused before touching the filesystem', () => {
  for (const id of ['99-nope', '../00-hello', '00-hello/../../etc', '']) {
    assert.throws(() => getLab(id, FIXTURES), (e: unknown) => e instanceof LabError && e.code === 'LAB_UNKNOWN', id);
  }
});

test('an invalid manifest is reported with its file and what is wrong', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-labs-'));
  try {
    fs.mkdirSync(path.join(dir, '03-broken'));
    fs.writeFileSync(path.join(dir, '03-broken', 'lab.json'), JSON.stringify({ title: 'x', steps: [{ id: 'a', title: 'a', text: '../../etc/passwd' }] }));
    assert.throws(() => listLabs(dir), /03-broken.*relative path inside the lab/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
