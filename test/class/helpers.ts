/**
 * Class-mode test helpers: a class on the local-user backend (real Unix users
 * tracelab-<id>, removed again by cleanup), logins, and express route discovery.
 */
import * as fs from 'fs';
import { spawnSync } from 'child_process';
import type { Express } from 'express';
import { cleanupData } from '../server/harness';
import { removeUnixUser, unixName } from '../../portal/hosts/local-user';

export const IS_ROOT = process.getuid?.() === 0;

/** Kill what a class left behind: tmux server, the students' Unix users, the data dir. */
export function cleanupClass(dataDir: string, studentIds: string[]): void {
  cleanupData(dataDir);
  for (const id of studentIds) {
    removeUnixUser(id);
    assertNoUser(id);
  }
}

function assertNoUser(id: string): void {
  const r = spawnSync('id', ['-u', unixName(id)], { stdio: 'ignore' });
  if (r.status === 0) console.error(`# warning: Unix user ${unixName(id)} is still there`);
}

/** Every [METHOD, path] the express app routes, mounted routers included. */
export function expressRoutes(app: Express): [string, string][] {
  const out: [string, string][] = [];
  const walk = (stack: any[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods)) {
          const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
          for (const p of paths) out.push([m.toUpperCase(), (prefix + p).replace(/\/$/, '') || '/']);
        }
      } else if (layer.name === 'router' && layer.handle.stack) {
        const src: string = layer.regexp.source;
        const mount = src.replace(/^\^/, '').replace('\\/?(?=\\/|$)', '').replace(/\\\//g, '/');
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as any)._router.stack, '');
  return out;
}

export function writeRoster(file: string, rows: [string, string][]): void {
  fs.writeFileSync(file, 'id,name\n' + rows.map((r) => r.join(',')).join('\n') + '\n');
}
