#!/usr/sbin/dtrace -qs
/*
 * handler-timing.d  Latency of every restify handler, as histograms
 *                   (restify's examples/dtrace/handler-timing.d, lab 2).
 *
 * USAGE:  pfexec ../illumos/handler-timing.d
 *         (demo.js running; send requests; Ctrl-C prints the histograms)
 *
 * Output: per route and handler, a quantize() of microseconds from
 * handler-start to handler-done.
 *
 * Example (this lab's demo.js, 10 x curl localhost:3000/foo/bar):
 *   getfooname  loadTags
 *            value  ------------- Distribution ------------- count
 *            16384 |                                         0
 *            32768 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 10
 *            65536 |                                         0
 * loadTags takes 32 to 64 ms on every request: that is the slow handler.
 */

dtrace:::BEGIN
{
	printf("Tracing... Hit Ctrl-C to end.\n");
}

restify*:::route-start
{
	track[arg2] = timestamp;
}

restify*:::handler-start
/track[arg3]/
{
	h[arg3, copyinstr(arg2)] = timestamp;
}

restify*:::handler-done
/track[arg3] && h[arg3, copyinstr(arg2)]/
{
	@[copyinstr(arg0), copyinstr(arg1), copyinstr(arg2)] =
	    quantize((timestamp - h[arg3, copyinstr(arg2)]) / 1000);
	h[arg3, copyinstr(arg2)] = 0;
}

restify*:::route-done
/track[arg2]/
{
	track[arg2] = 0;
}

dtrace:::END
{
	printa("%s %s %s\n%@d\n", @);
}
