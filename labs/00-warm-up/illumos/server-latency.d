#!/usr/sbin/dtrace -qs
/*
 * server-latency.d  HTTP request-to-response latency per URL and client
 *                   (the talk's server-latency.d, corrected).
 *
 * USAGE:  pfexec ../illumos/server-latency.d      (Ctrl-C ends)
 *
 * Output, after Ctrl-C: per URL and remote address, a quantize() of
 * microseconds from request to response.
 *
 * Example (the talk):
 *   URL                 : REMOTEADDRESS
 *   /tmp/words          : 165.225.154.77
 *   MICROSECONDS
 *            value  ------------- Distribution ------------- count
 *             4096 |@@@@@@@@@@@@@@@@@@                       43
 *            16384 |@@@@@@@@@@@@@@                           31
 * Local clients get /tmp/words in 4 to 32 ms.
 *
 * Corrections to the slide: node*:::http-server-* (three colons), and the
 * URL kept per connection rather than indexed by a timestamp.
 */

dtrace:::BEGIN
{
	printf("Tracing... Hit Ctrl-C to end.\n");
}

node*:::http-server-request
{
	ts[args[1]->remoteAddress, args[1]->remotePort] = timestamp;
	url[args[1]->remoteAddress, args[1]->remotePort] = args[0]->url;
}

node*:::http-server-response
/ts[args[0]->remoteAddress, args[0]->remotePort]/
{
	this->t = ts[args[0]->remoteAddress, args[0]->remotePort];
	@[url[args[0]->remoteAddress, args[0]->remotePort],
	    args[0]->remoteAddress] = quantize((timestamp - this->t) / 1000);
	ts[args[0]->remoteAddress, args[0]->remotePort] = 0;
	url[args[0]->remoteAddress, args[0]->remotePort] = 0;
}

dtrace:::END
{
	printf("%-20s: %-16s\n", "URL", "REMOTEADDRESS");
	printa("%-20s: %-16s\nMICROSECONDS\n%@d\n", @);
}
