#!/usr/sbin/dtrace -qs
/*
 * system.d  Latency of every system call of one process, as histograms.
 *           The talk's system.d ("systeme.d" on the slide), corrected.
 *
 * USAGE:  pfexec ../illumos/system.d -p PID      (Ctrl-C ends)
 *
 * Output, after Ctrl-C: per system call, a quantize() of nanoseconds from
 * entry to return.
 *
 * Example (the talk):
 *   SYSCALL      NSECS              # OF OCCURRENCES
 *   read
 *            value  ------------- Distribution ------------- count
 *             2048 |@@@@@@@@@@@@@@                           3
 *             4096 |@@@@@@@@@@                               2
 *             8192 |@@@@@@@@@@                               2
 *            16384 |@@@@                                     1
 *        134217728 |@@@@                                     1
 * Most reads take microseconds; one waited 134 ms (an idle socket or TTY).
 *
 * Corrections to the slide: syscall:::entry / syscall:::return (not
 * syscall::entry), probefunc (not probfunc), the process chosen with -p.
 */

dtrace:::BEGIN
{
	printf("Tracing... Hit Ctrl-C to end.\n");
}

syscall:::entry
/pid == $target/
{
	self->ts = timestamp;
}

syscall:::return
/self->ts/
{
	@[probefunc] = quantize(timestamp - self->ts);
	self->ts = 0;
}

dtrace:::END
{
	printa("SYSCALL      NSECS              # OF OCCURRENCES\n%s%@d\n", @);
}
