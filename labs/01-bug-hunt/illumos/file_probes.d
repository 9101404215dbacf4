#!/usr/sbin/dtrace -qs
/*
 * file_probes.d  The app's own probes (rimraf, srcstream, chksum), in order.
 *                The talk's file_probes.d (lab 1), corrected.
 *
 * USAGE:  cd "$TRACELAB_WORKSPACE/01-bug-hunt/app"
 *         pfexec ../illumos/file_probes.d -Z -c 'node file.js'
 *         (-Z: the fileapp provider only exists once node has loaded
 *         dtrace-provider, after the tracer started)
 *
 * Output, one line per probe fired by the traced app:
 *   PROBE     rimraf | srcstream | chksum
 *   ARG       the probe's first argument (chksum: and the chunk number)
 *
 * Example (the talk, SmartOS):
 *   rimraf     calling rimraf
 *   chksum     md5sum.update(chunk) 1
 *   chksum     md5sum.update(chunk) 2
 *   srcstream  srcstream.pipe(toStream);
 *   chksum     md5sum.update(chunk) 3
 *   ...
 * Hashing starts before the pipe: the chunks hashed first never reach the copy.
 *
 * Corrections to the slide: -q is in the shebang, the chunk number is
 * printed, and `temporal` keeps lines from different CPUs in time order.
 */

#pragma D option temporal

dtrace:::BEGIN
{
	printf("Tracing... Hit Ctrl-C to end.\n");
	printf("%-10s %s\n", "PROBE", "ARG");
}

fileapp$target:::rimraf,
fileapp$target:::srcstream
{
	printf("%-10s %s\n", probename, copyinstr(arg0));
}

fileapp$target:::chksum
{
	printf("%-10s %s %d\n", probename, copyinstr(arg0), arg1);
}
