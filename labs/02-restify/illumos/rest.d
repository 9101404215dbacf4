#!/usr/sbin/dtrace -qs
/*
 * rest.d  Every restify probe with its arguments, as it fires (the talk's
 *         rest.d, lab 2; see restify's docs for the arguments).
 *
 * USAGE:  pfexec ../illumos/rest.d
 *         (demo.js running; then curl localhost:3000/foo/bar; Ctrl-C)
 *
 * Output, one block per probe, all its arguments:
 *   route-start     server, route, request id, method, url, headers (JSON)
 *   handler-start   server, route, handler name, request id
 *   handler-done    server, route, handler name, request id
 *   route-done      server, route, request id, HTTP status, headers (JSON)
 *
 * Example (the talk, SmartOS):
 *   route-start at 5a3c6a3b2e1 nsecs:
 *       args[0] = demo
 *       args[1] = getfooname
 *       args[2] = 6
 *       args[3] = GET
 *       args[4] = /foo/bar
 *       args[5] = {"host":"localhost:3000","user-agent":"curl/7.24.0", ...}
 * One request (id 6) matched route getfooname.
 *
 * Corrections to the slide: %lx for the timestamp only (it is a number), the
 * integer arguments with %d, and the handler and route-done probes added
 * (the slide's "..."), every argument printed as for route-start.
 */

dtrace:::BEGIN
{
	printf("Tracing... Hit Ctrl-C to end.\n");
}

restify*:::route-start
{
	printf("route-start at %lx nsecs:\n", timestamp);
	printf("    args[0] = %s\n", copyinstr(arg0));
	printf("    args[1] = %s\n", copyinstr(arg1));
	printf("    args[2] = %d\n", arg2);
	printf("    args[3] = %s\n", copyinstr(arg3));
	printf("    args[4] = %s\n", copyinstr(arg4));
	printf("    args[5] = %s\n", copyinstr(arg5));
}

restify*:::handler-start,
restify*:::handler-done
{
	printf("%s at %lx nsecs:\n", probename, timestamp);
	printf("    args[0] = %s\n", copyinstr(arg0));
	printf("    args[1] = %s\n", copyinstr(arg1));
	printf("    args[2] = %s\n", copyinstr(arg2));
	printf("    args[3] = %d\n", arg3);
}

restify*:::route-done
{
	printf("route-done at %lx nsecs:\n", timestamp);
	printf("    args[0] = %s\n", copyinstr(arg0));
	printf("    args[1] = %s\n", copyinstr(arg1));
	printf("    args[2] = %d\n", arg2);
	printf("    args[3] = %d\n", arg3);
	printf("    args[4] = %s\n", copyinstr(arg4));
}
