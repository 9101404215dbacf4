#!/usr/sbin/dtrace -s
/*
 * profile-97.d  sample node's user stacks 97 times a second, with JS frames.
 *
 * USAGE: dtrace -s illumos/profile-97.d -p PID > out/stacks.out
 *        stackvis dtrace flamegraph-svg < out/stacks.out > out/stacks.svg
 *
 * jstack() walks the stack with V8's ustack helper, which names JS frames
 * (Node 6: run node with no extra flags). 150 frames deep, 8000 bytes of
 * names. `arg1` is the user-mode PC: sample only when node runs its own code,
 * not when it is in the kernel. Stops after 60 s, or Ctrl-C.
 *
 * EXAMPLE OUTPUT (app/report.js --loop on Node 6.17.1, abridged):
 *   CPU     ID                    FUNCTION:NAME
 *     0  80870                        :tick-60s
 *
 *               node`_ZN2v88internal...
 *               << internal code >>
 *               isNew at /export/home/student/03-flame-graphs/app/report.js position 1567
 *               summarise at /export/home/student/03-flame-graphs/app/report.js position 1912
 *               ...
 *              4519
 * 4519 samples of 5800 were in isNew: the widest tower of the flame graph.
 *
 * The talk's one-liner used `execname == "node"` (every node process on the
 * machine, including other students'); this one samples only the -p process.
 */

profile-97
/pid == $target && arg1/
{
	@[jstack(150, 8000)] = count();
}

tick-60s
{
	exit(0);
}
