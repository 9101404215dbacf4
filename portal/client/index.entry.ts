/** The lab list page: one card per lab (labs/NN-name/lab.json). */
import { api } from './api';
import { h } from './dispose';

interface LabCard {
  id: string;
  title: string;
  summary: string;
  tracks: string[];
  needs: string[];
  steps: number;
}

async function main(): Promise<void> {
  const root = document.getElementById('labs')!;
  const trackEl = document.getElementById('track')!;
  try {
    const { track, labs } = await api<{ track: string; labs: LabCard[] }>('/api/labs');
    trackEl.textContent = track;
    trackEl.className = `badge track-${track}`;
    root.replaceChildren();
    if (!labs.length) root.append(h('p', { class: 'empty' }, 'No labs found. Labs live in labs/NN-name/lab.json.'));
    for (const l of labs) {
      const supported = l.tracks.includes(track);
      root.append(
        h('a', { class: 'card' + (supported ? '' : ' unsupported'), href: `/labs/${encodeURIComponent(l.id)}`, 'data-lab': l.id },
          h('div', { class: 'card-num' }, l.id.slice(0, 2)),
          h('h2', {}, l.title),
          h('p', {}, l.summary),
          h('div', { class: 'card-meta' },
            ...l.tracks.map((t) => h('span', { class: `badge track-${t}` }, t)),
            h('span', { class: 'muted' }, `${l.steps} step${l.steps === 1 ? '' : 's'}`),
            l.needs.length ? h('span', { class: 'muted' }, l.needs.join(' · ')) : null,
          ),
          supported ? null : h('p', { class: 'warn' }, `No ${track} scripts in this lab yet.`),
        ),
      );
    }
  } catch (e) {
    root.replaceChildren(h('p', { class: 'error' }, `Could not load the labs: ${(e as Error).message}`));
  }
}

main();
