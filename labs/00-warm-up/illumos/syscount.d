#!/usr/sbin/dtrace -qs
/*
 * syscount.d  Count the system calls one process makes, by name (the talk's
 *             count one-liner, as a script).
 *
 * USAGE:  pfexec ../illumos/syscount.d -p PID      (Ctrl-C ends)
 *
 * Output, after Ctrl-C: one line per system call, fewest first: NAME COUNT.
 *
 * Example (the talk, node on SmartOS):
 *   munmap          31
 *   portfs          36
 *   lwp_park        37
 *   fcntl           39
 *   mmap64          53
 * On illumos node waits in portfs (event ports) and hands work to its thread
 * pool with lwp_park, where Linux shows epoll_pwait and futex.
 */

dtrace:::BEGIN
{
	printf("Tracing... Hit Ctrl-C to end.\n");
}

syscall:::entry
/pid == $target/
{
	@[probefunc] = count();
}
