import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMarkdown, parseInfo, safeLink } from '../../portal/server/markdown';

test('raw HTML is escaped, never rendered', () => {
  const html = renderMarkdown('Hi <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n<div onclick="x()">d</div>\n', 'linux');
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /<div onclick/i);
  assert.match(html, /&lt;script&gt;/);
});

test('javascript:, data: and vbscript: links are neutralised; http(s), mailto and relative links work', () => {
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:msgbox', 'file:///etc/passwd']) {
    const html = renderMarkdown(`[x](${bad})`, 'linux');
    assert.doesNotMatch(html, /href/i, bad);
    assert.equal(safeLink(bad), false, bad);
  }
  assert.match(renderMarkdown('[x](https://example.com/a)', 'linux'), /href="https:\/\/example.com\/a" target="_blank" rel="noopener noreferrer"/);
  assert.match(renderMarkdown('[x](mailto:a@b.c)', 'linux'), /href="mailto:a@b.c"/);
  assert.match(renderMarkdown('[x](../01-bug-hunt)', 'linux'), /href="..\/01-bug-hunt"/);
  assert.doesNotMatch(renderMarkdown('![x](javascript:alert(1))', 'linux'), /src=/);
});

test('linkify is off: a bare URL stays text', () => {
  assert.doesNotMatch(renderMarkdown('see https://example.com now', 'linux'), /<a /);
});

test('sh and bash blocks get a Run button; other languages and norun do not', () => {
  const run = renderMarkdown('```sh\necho hi\n```\n\n```bash\nls\n```\n', 'linux');
  assert.equal((run.match(/class="btn run"/g) || []).length, 2);
  assert.match(run, /<code class="language-sh">echo hi\n<\/code>/);
  for (const lang of ['text', 'console', 'd', 'bt', 'js', '']) {
    const html = renderMarkdown('```' + lang + '\necho hi\n```\n', 'linux');
    assert.doesNotMatch(html, /btn run/, lang);
    assert.match(html, /echo hi/, lang);
  }
  assert.doesNotMatch(renderMarkdown('```sh norun\necho hi\n```\n', 'linux'), /btn run/);
});

test('code inside blocks is escaped', () => {
  const html = renderMarkdown('```sh\necho "<b>&</b>"\n```\n', 'linux');
  assert.match(html, /echo &quot;&lt;b&gt;&amp;&lt;\/b&gt;&quot;/);
});

test('track-marked fences show only on their track', () => {
  const src = '```sh linux\necho L\n```\n\n```sh illumos\necho I\n```\n\n```d illumos norun\nsyscall:::entry\n```\n';
  const linux = renderMarkdown(src, 'linux');
  const illumos = renderMarkdown(src, 'illumos');
  assert.match(linux, /echo L/);
  assert.doesNotMatch(linux, /echo I|syscall/);
  assert.match(illumos, /echo I/);
  assert.match(illumos, /syscall:::entry/);
  assert.doesNotMatch(illumos, /echo L/);
  assert.deepEqual(parseInfo('D illumos norun'), { lang: 'd', track: 'illumos', norun: true });
});

test('::: linux / ::: illumos prose blocks show only on their track, nested content included', () => {
  const src = 'common\n\n::: linux\nLinux **prose**\n\n```sh\necho in-linux\n```\n:::\n\n::: illumos\nillumos prose\n\n```sh\necho in-illumos\n```\n:::\n\nafter\n';
  const linux = renderMarkdown(src, 'linux');
  assert.match(linux, /common/);
  assert.match(linux, /<div class="track track-linux">/);
  assert.match(linux, /Linux <strong>prose<\/strong>/);
  assert.match(linux, /echo in-linux/);
  assert.doesNotMatch(linux, /illumos prose|in-illumos/);
  assert.match(linux, /after/);
  const illumos = renderMarkdown(src, 'illumos');
  assert.match(illumos, /illumos prose/);
  assert.doesNotMatch(illumos, /Linux|in-linux/);
});

test('artifact blocks render a Show button only for allowed names', () => {
  assert.match(renderMarkdown('```artifact\nstacks.svg\n```\n', 'linux'), /<button type="button" class="btn artifact" data-artifact="stacks.svg">Show stacks.svg<\/button>/);
  for (const bad of ['../etc/passwd.svg', 'a b.svg', 'x.exe', '"onmouseover=x.svg']) {
    const html = renderMarkdown('```artifact\n' + bad + '\n```\n', 'linux');
    assert.doesNotMatch(html, /data-artifact/, bad);
    assert.match(html, /md-error/, bad);
  }
});
