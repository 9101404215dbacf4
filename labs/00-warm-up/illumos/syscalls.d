#!/usr/sbin/dtrace -qs
/*
 * syscalls.d  Every system call of one process as it is made (the talk's
 *             "show system calls made by a running node process" one-liner,
 *             dtrace -n 'syscall:::entry/pid==PID/{}', as a script).
 *
 * USAGE:  pfexec ../illumos/syscalls.d -p PID      (Ctrl-C ends)
 *
 * Output, one line per system call entry, in dtrace's default columns:
 *   CPU            the CPU it was made on
 *   ID             the probe's id (one per system call)
 *   FUNCTION:NAME  the system call, and "entry"
 *
 * Example (the talk, node on SmartOS):
 *   CPU       ID   FUNCTION:NAME
 *     1    10157     write:entry
 *     1    10283  lwp_park:entry
 *     1    10155      read:entry
 *     4    10155      read:entry
 *     4    10157     write:entry
 * node reads and writes its sockets and files, and parks threads in
 * lwp_park (Linux shows futex) while work moves between them.
 */

dtrace:::BEGIN
{
	printf("Tracing... Hit Ctrl-C to end.\n");
	printf("%3s %8s   %s\n", "CPU", "ID", "FUNCTION:NAME");
}

syscall:::entry
/pid == $target/
{
	printf("%3d %8d %9s:entry\n", cpu, id, probefunc);
}
