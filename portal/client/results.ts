/** Check results, per step: passed or not, the one-line message, evidence, pictures. */
import { h } from './dispose';
import { renderStepData } from './viz';

// The shapes the server sends: one definition, shared (type-only imports vanish from the bundle).
import type { StepResult } from '../../src/check/types';
import type { CheckResponse } from '../server/check';
export type { StepResult, CheckResponse };

export function renderResults(r: CheckResponse, titles: Record<string, string>): HTMLElement {
  const when = new Date(r.checkedAt).toLocaleTimeString();
  if (!r.ok || !r.result) {
    const env = r.error?.code === 'CHECK_ENVIRONMENT';
    return h('section', { class: 'results bad', 'data-outcome': 'error' },
      h('h3', {}, env ? 'This machine cannot run the check' : 'The check could not run', h('span', { class: 'muted when' }, when)),
      h('pre', { class: 'err-msg' }, r.error?.message || 'unknown error'),
      h('p', { class: 'muted' }, `code ${r.error?.code ?? '?'}, exit ${r.exitCode ?? '—'}`),
    );
  }
  const res = r.result;
  const secs = res.durationMs !== undefined ? ` in ${(res.durationMs / 1000).toFixed(1)} s` : '';
  return h('section', { class: 'results ' + (res.passed ? 'good' : 'bad'), 'data-outcome': res.passed ? 'pass' : 'fail' },
    h('h3', {}, res.passed ? '✓ All checks passed' : '✗ Not yet', h('span', { class: 'muted when' }, `${when}${secs}`)),
    h('ul', { class: 'steps-result' },
      ...res.steps.map((s) => {
        const pic = s.data !== undefined ? renderStepData(s.data) : null;
        return h('li', { class: s.passed ? 'pass' : 'fail', 'data-step': s.id },
          h('div', { class: 'line' }, h('span', { class: 'mark' }, s.passed ? '✓' : '✗'), h('strong', {}, titles[s.id] || s.id), ' ', h('span', { class: 'msg' }, s.message)),
          s.evidence ? h('details', {}, h('summary', {}, 'evidence'), h('pre', {}, s.evidence)) : null,
          pic,
        );
      }),
    ),
  );
}
