// D scripts as the talk printed them (../shared/seeds/000_c9dba5042c651c8c.txt), verbatim:
// the static D check must find the talk's real mistakes in them.

/** Seed lines 82-102: systeme.d ("syscall::entry" and the "probfunc" typo are the talk's). */
export const TALK_SYSTEME_D = "#!/usr/sbin/dtrace -s\n\n#pragma D option quiet\n\nsyscall::entry\n/execname == \"node\"/\n{\n    self->ts = timestamp;\n}\n\nsyscall::return\n/self->ts/\n{\n    @[probfunc] = quantize(timestamp - self->ts);\n    self->ts = 0;\n}\n\nEND\n{\n    printa(\"SYSCALL      NSECS              # OF OCCURANCES\\n%s%@1x\\n\", @);\n}\n";

/** Seed lines 292-314: server-latency.d (node*::http-server-request: 3 fields). */
export const TALK_SERVER_LATENCY_D = "/* server-latency.d */\n\n#pragma D option quiet\n\nnode*::http-server-request\n{\n    ts[args[1]->remoteAddress, args[1]->remotePort] = timestamp;\n    url[ts[args[1]->remoteAddress, args[1]->remotePort]] = args[0]->url;\n}\n\nnode*::http-server-response\n/ts[args[0]->remoteAddress, args[0]->remotePort]/\n{\n    this->t = ts[args[0]->remoteAddress, args[0]->remotePort];\n    @[url[this->t], args[0]->remoteAddress] = quantize((timestamp-this->t)/1000);\n    ts[args[0]->remoteAddress, args[0]->remotePort] = 0;\n}\n\nEND\n{\n    printf(\"%-20s: %-16s\\n\", \"URL\", \"REMOTEADDRESS\");\n    printa(\"%-20s: %-16s\\nMICROSECONDS\\n%@\", @);\n}\n";

/** Seed lines 568-588: rwu.d (uses $target; only the command line said -c). */
export const TALK_RWU_D = "#!/usr/sbin/dtrace -qs\n\n#pragma D option temporal\n\nsyscall::read:entry\n/pid == $target && fds[arg0].fi_pathname == \"/home/student/nodeconf/words\"/\n{\n    printf(\"read request %d bytes\\n\", arg2);\n}\n\nsyscall::write:entry\n/pid == $target && fds[arg0].fi_pathname == \"/home/student/nodeconf/tmp/words.save\"/\n{\n    printf(\"write request %d bytes\\n\", arg2);\n}\n\nsyscall::unlink*:entry\n/pid == $target/\n{\n    printf(\"unlinking %s\\n\", copyinstr(arg0));\n}\n";
