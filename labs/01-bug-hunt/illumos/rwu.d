#!/usr/sbin/dtrace -qs
/*
 * rwu.d  Reads of `words`, writes to `words.save` and every unlink, in order.
 *        The talk's rwu.d (lab 1, "Find a bug"), corrected.
 *
 * USAGE:  cd "$TRACELAB_WORKSPACE/01-bug-hunt/app"
 *         pfexec ../illumos/rwu.d -c 'node file.js'
 *
 * Output, one line per system call of the traced node process:
 *   read request N bytes    read(2) of a file whose name is `words`
 *   write request N bytes   write(2) to a file whose name is `words.save`
 *   unlinking PATH          unlink(2)/unlinkat(2) of PATH
 *
 * Example (the talk, Node 0.8 on SmartOS; Node 6 looks the same):
 *   unlinking tmp
 *   read request 65536 bytes
 *   read request 65536 bytes
 *   unlinking tmp/words.save
 *   read request 65536 bytes
 *   write request 65536 bytes
 *   ...
 * Reads are done before tmp/words.save is unlinked: data read that early has
 * nowhere to go yet.
 *
 * Corrections to the slide: basename() instead of a home-directory path, so it
 * works from any workspace; unlinkat's path is its second argument.
 */

#pragma D option temporal

dtrace:::BEGIN
{
	printf("Tracing... Hit Ctrl-C to end.\n");
}

syscall::read:entry
/pid == $target && basename(fds[arg0].fi_pathname) == "words"/
{
	printf("read request %d bytes\n", arg2);
}

syscall::write:entry
/pid == $target && basename(fds[arg0].fi_pathname) == "words.save"/
{
	printf("write request %d bytes\n", arg2);
}

syscall::unlink:entry
/pid == $target/
{
	printf("unlinking %s\n", copyinstr(arg0));
}

syscall::unlinkat:entry
/pid == $target/
{
	printf("unlinking %s\n", copyinstr(arg1));
}
