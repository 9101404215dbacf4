/**
 * A student's folded stacks (an `out/*.folded` artifact) drawn in the artifact panel
 * as the same interactive flame graph check results use. The file is text made by
 * the student's tools: it is read (at most FOLDED_LIMITS.maxBytes of it), parsed and
 * drawn as DOM text, never inserted as HTML.
 */
import { h } from '../dispose';
import { ensureStyle } from './style';
import { renderFlameGraph } from './flamegraph';
import { FOLDED_LIMITS, parseFoldedStacks, describeParse } from '../../shared/folded';

/** The body as text, reading no more than `max` bytes (the rest is never downloaded). */
async function readCapped(res: Response, max: number): Promise<{ text: string; cut: boolean }> {
  if (!res.body) return { text: (await res.text()).slice(0, max), cut: false };
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + dec.decode(), cut: false };
    bytes += value.byteLength;
    text += dec.decode(value, { stream: true });
    if (bytes > max) {
      await reader.cancel().catch(() => undefined);
      return { text, cut: true };
    }
  }
}

export async function renderFoldedArtifact(res: Response, name: string): Promise<HTMLElement> {
  ensureStyle();
  const { text, cut } = await readCapped(res, FOLDED_LIMITS.maxBytes);
  const p = parseFoldedStacks(text);
  if (cut && !p.truncated) p.truncated = `read the first ${Math.round(FOLDED_LIMITS.maxBytes / (1024 * 1024))} MB only`;
  const box = h('div', { class: 'folded-view' });
  if (p.raw) {
    box.append(h('p', { class: 'artifact-note bad' }, `${name} is ${p.raw} output, not folded stacks: fold it first, e.g. node linux/stackfold.js < out/stacks.txt > out/stacks.folded`));
    return box;
  }
  if (!p.root.v) {
    box.append(h('p', { class: 'artifact-note bad' }, `${name} has no stacks: a folded file has one "frame;frame;... count" line per stack (lab 3's stackfold.js writes it).`));
    return box;
  }
  box.append(renderFlameGraph({ kind: 'flamegraph', title: `${name} — click a frame to zoom, search with a regex`, unit: 'samples', root: p.root }));
  box.append(h('p', { class: 'artifact-note' + (p.truncated || p.skipped || p.deep ? ' warn' : '') }, describeParse(p)));
  return box;
}
