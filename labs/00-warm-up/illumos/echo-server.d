#!/usr/sbin/dtrace -qs
/*
 * echo-server.d  Every HTTP request and response of a node server, from
 *                node's built-in provider (the talk's echo-server.d).
 *
 * USAGE:  pfexec ../illumos/echo-server.d      (Ctrl-C ends)
 *
 * Output, one line per probe: DIRECTION, URL, METHOD, REMOTEADDRESS,
 * REMOTEPORT, FD.
 *
 * Example (the talk):
 *   http-server-request  /echofile-server.js GET 62.203.55.164 58027 12
 *   http-server-response                         62.203.55.164 58027 12
 * Each request is answered on the same connection (same port and fd).
 */

dtrace:::BEGIN
{
	printf("Tracing... Hit Ctrl-C to end.\n");
	printf("%-22s %-20s %-8s %-16s %-10s %s\n",
	    "DIRECTION", "URL", "METHOD", "REMOTEADDRESS", "REMOTEPORT", "FD");
}

node*:::http-server-request
{
	printf("%-22s %-20s %-8s %-16s %-10d %d\n",
	    probename, args[0]->url, args[0]->method, args[1]->remoteAddress,
	    args[1]->remotePort, args[1]->fd);
}

node*:::http-server-response
{
	printf("%-22s %-20s %-8s %-16s %-10d %d\n",
	    probename, " ", " ", args[0]->remoteAddress,
	    args[0]->remotePort, args[0]->fd);
}
