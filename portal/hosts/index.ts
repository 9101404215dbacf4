/**
 * LabHost backends by name. `local` is the embedded default; the ssh and vagrant
 * backends register themselves here (one line each) when they land.
 */
import { LabHost, LabHostError } from './types';
import { LocalHost } from './local';
import { LocalUserHost } from './local-user';
import { createSshHost } from './ssh';
import { VagrantHost } from './vagrant';
import { INSTALL_ROOT } from '../../src/labs';

/** What every backend factory gets from the portal. Backends may read more from `extra`. */
export interface HostOptions {
  user: string;
  dataDir: string;
  labsDir: string;
  extra?: Record<string, unknown>;
}

export type HostFactory = (opts: HostOptions) => LabHost;

export const HOST_BACKENDS: Record<string, HostFactory> = {
  local: (o) => new LocalHost({ user: o.user, dataDir: o.dataDir, labsDir: o.labsDir }),
  // Class mode on this machine: a Unix user and a bubblewrap sandbox per student (needs root).
  'local-user': (o) => new LocalUserHost({ user: o.user, dataDir: o.dataDir, labsDir: o.labsDir }),
  // Any host over SSH, from an inventory in OpenSSH config format (`tracelab serve --inventory FILE`).
  ssh: (o) => createSshHost(o),
  // The illumos lab box in vm/, driven with `vagrant up`; shells and checks go over ssh.
  vagrant: (o) =>
    new VagrantHost({
      user: o.user,
      dataDir: o.dataDir,
      vagrantDir: typeof o.extra?.vagrantDir === 'string' ? o.extra.vagrantDir : `${INSTALL_ROOT}/vm`,
      machine: typeof o.extra?.machine === 'string' ? o.extra.machine : undefined,
    }),
};

export function createHost(kind: string, opts: HostOptions): LabHost {
  const make = HOST_BACKENDS[kind];
  if (!make) throw new LabHostError('HOST_INTERNAL', `unknown host backend '${kind}' (known: ${Object.keys(HOST_BACKENDS).join(', ')})`);
  return make(opts);
}
