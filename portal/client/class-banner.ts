/**
 * On a student's lab page in class mode: a banner while an instructor has taken
 * over the student's terminal (the take-over is never silent). Does nothing for
 * the local learner or an instructor.
 */
import { api } from './api';

interface Me {
  role: string;
  takeover: { by: string } | null;
}

export function startClassBanner(anchor: HTMLElement): { dispose(): void } {
  let es: EventSource | null = null;
  let disposed = false;
  const banner = document.createElement('span');
  banner.id = 'takeover-banner';
  banner.className = 'takeover-banner';
  banner.hidden = true;
  // Inline style: the lab page does not load the dashboard's stylesheet.
  banner.style.cssText = 'background:#ff7b72;color:#2b0d0b;font-weight:700;padding:2px 10px;border-radius:6px;font-size:13px';
  anchor.before(banner);
  const show = (t: { by: string } | null) => {
    banner.hidden = !t;
    banner.textContent = t ? `Instructor ${t.by} has taken over your terminal` : '';
  };
  api<Me>('/api/class/me')
    .then((me) => {
      if (disposed || me.role !== 'student') return;
      show(me.takeover);
      es = new EventSource('/api/class/me/events');
      es.addEventListener('hello', (ev) => show(JSON.parse((ev as MessageEvent).data).takeover));
      es.addEventListener('takeover', (ev) => {
        const e = JSON.parse((ev as MessageEvent).data);
        show(e.active ? { by: e.by } : null);
      });
    })
    .catch(() => undefined);
  return {
    dispose() {
      disposed = true;
      es?.close();
      banner.remove();
    },
  };
}
