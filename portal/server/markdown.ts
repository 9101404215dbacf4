/**
 * Lab step markdown → HTML, for one track. The conventions lab authors write to:
 *
 * - markdown-it with raw HTML off, linkify off; links only http(s), mailto or relative.
 * - A fenced block's info string is `LANG [linux|illumos] [norun]`.
 *   - LANG `sh` / `bash` (without `norun`): a Run button that types the block into
 *     the terminal (the client does the typing; the server never runs it).
 *   - any other LANG (`text`, `console`, `d`, `bt`, `js`...): displayed only.
 *   - a track word: the block shows only on a host of that track.
 *   - LANG `artifact`, content a file name: a "Show NAME" button that opens
 *     <workspace>/<lab>/out/NAME beside the terminal (NAME.folded: folded stacks,
 *     drawn by the page as an interactive flame graph).
 * - Prose per track: `::: linux` ... `:::` and `::: illumos` ... `:::`.
 */
import MarkdownIt from 'markdown-it';
import type { Track } from '../hosts/types';
// eslint-disable-next-line @typescript-eslint/no-var-requires
const container = require('markdown-it-container');

export const TRACKS: Track[] = ['linux', 'illumos'];
export const RUNNABLE_LANGS = ['sh', 'bash'];
/** Artifact file types: the one list behind the renderer's check and the server's route. */
export const ARTIFACT_EXTS = ['svg', 'txt', 'json', 'html', 'folded'];
export const ARTIFACT_RE = new RegExp(`^[A-Za-z0-9._-]{1,80}\\.(${ARTIFACT_EXTS.join('|')})$`);
/** The rule in words, for error messages. */
export const ARTIFACT_RULE = `letters, digits, . _ - ending in ${ARTIFACT_EXTS.map((e) => '.' + e).join(' ')}`;

const SCHEME_RE = /^[a-z][a-z0-9+.-]*:/i;

/** Only http(s), mailto and scheme-less (relative) URLs survive. */
export function safeLink(url: string): boolean {
  const u = url.trim().replace(/[\u0000-\u001f\u007f\s]+/g, '');
  if (!SCHEME_RE.test(u)) return true;
  return /^(https?|mailto):/i.test(u);
}

export interface FenceInfo {
  lang: string;
  track: Track | null;
  norun: boolean;
}

export function parseInfo(info: string): FenceInfo {
  const words = info.trim().split(/\s+/).filter(Boolean);
  const lang = (words[0] || '').toLowerCase();
  const track = (words.slice(1).find((w) => (TRACKS as string[]).includes(w)) as Track | undefined) ?? null;
  return { lang, track, norun: words.slice(1).includes('norun') };
}

const cache = new Map<Track, MarkdownIt>();

function build(track: Track): MarkdownIt {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  md.validateLink = safeLink;
  const esc = md.utils.escapeHtml;

  for (const t of TRACKS) md.use(container, t, { render: (tokens: any[], i: number) => (tokens[i].nesting === 1 ? `<div class="track track-${t}">\n` : '</div>\n') });

  // Drop `::: <other track>` containers entirely (their content must not render at all).
  md.core.ruler.push('tracelab_tracks', (state) => {
    const out: typeof state.tokens = [];
    let hiding = 0;
    for (const tok of state.tokens) {
      const m = /^container_(linux|illumos)_(open|close)$/.exec(tok.type);
      if (m && m[1] !== track) {
        hiding += m[2] === 'open' ? 1 : -1;
        continue;
      }
      if (!hiding) out.push(tok);
    }
    state.tokens = out;
  });

  md.renderer.rules.fence = (tokens, idx) => {
    const tok = tokens[idx];
    const info = parseInfo(tok.info);
    if (info.track && info.track !== track) return '';
    const code = tok.content;
    if (info.lang === 'artifact') {
      const name = code.trim();
      if (!ARTIFACT_RE.test(name)) return `<p class="md-error">artifact name "${esc(name.slice(0, 80))}" is not allowed (${esc(ARTIFACT_RULE)})</p>\n`;
      return `<p><button type="button" class="btn artifact" data-artifact="${esc(name)}">Show ${esc(name)}</button></p>\n`;
    }
    const langClass = info.lang ? ` class="language-${esc(info.lang.replace(/[^a-z0-9_-]/g, ''))}"` : '';
    const pre = `<pre><code${langClass}>${esc(code)}</code></pre>`;
    if (RUNNABLE_LANGS.includes(info.lang) && !info.norun) {
      return `<div class="code runnable">${pre}<button type="button" class="btn run" title="Type this into the terminal">Run</button></div>\n`;
    }
    return `<div class="code">${pre}</div>\n`;
  };

  // External links open beside the lab, without giving the new page a handle on this one.
  const defaultLinkOpen = md.renderer.rules.link_open || ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const href = tokens[idx].attrGet('href') || '';
    if (/^https?:/i.test(href)) {
      tokens[idx].attrSet('target', '_blank');
      tokens[idx].attrSet('rel', 'noopener noreferrer');
    }
    return defaultLinkOpen(tokens, idx, options, env, self);
  };
  return md;
}

/** Render one step's markdown for a host of `track`. */
export function renderMarkdown(src: string, track: Track): string {
  let md = cache.get(track);
  if (!md) cache.set(track, (md = build(track)));
  return md.render(src);
}
