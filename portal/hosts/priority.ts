/**
 * Running a command below the terminals on the portal's own machine (ExecOptions.lowPriority,
 * honoured by the local backends; a remote host's CPU is not the portal's).
 *
 * Nice 10 and the idle I/O class for the whole tree (a check: the checker, its tracers,
 * the student's app). The host's exec starts it in a new session, and with the kernel's
 * autogroup scheduling (on by default) a new session is its own scheduling group whose
 * weight a process nice does not change: so the group's nice is set too
 * (/proc/self/autogroup). Best effort: without ionice or autogroup it runs anyway.
 * TRACELAB_CHECK_NICE (0..19, default 10) sets both nice values, for a machine where
 * checks starve (a slower check is the price of a terminal that keeps moving).
 */
export function checkNice(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.TRACELAB_CHECK_NICE;
  return v !== undefined && /^[0-9]{1,2}$/.test(v) && Number(v) <= 19 ? Number(v) : 10;
}

/** `argv` wrapped to run at that lower priority. */
export function lowPriority(argv: string[], nice = checkNice()): string[] {
  const sh = `echo ${nice} > /proc/self/autogroup 2>/dev/null; if command -v ionice >/dev/null 2>&1; then exec nice -n ${nice} ionice -c3 "$@"; fi; exec nice -n ${nice} "$@"`;
  return ['sh', '-c', sh, 'tracelab-low', ...argv];
}
