/**
 * Captured outputs for the illumos-track parser tests. Every string here is a real
 * capture, copied from where it was printed (named above each one); none is invented.
 * The talk (../shared/seeds/000_c9dba5042c651c8c.txt, "Debugging and Performance Analysis
 * of Node using DTrace and mdb") printed them on slides: the Markdown conversion put
 * ``` fences inside some outputs, which are removed here; everything else (tabs where
 * dtrace printed spaces, a lost "|", wrapped lines) is kept as printed, because
 * students paste such text too.
 */

/** The talk, seed lines 63-72. Lab 0: `dtrace -n 'syscall:::entry/execname == "node"/{@[probefunc]=count();}'` on SmartOS (as the talk shows it). */
export const TALK_SYSCALL_COUNT = "# dtrace -n 'syscall:::entry/execname == \"node\"/{@[probefunc]=count();}'  \ndtrace: description 'syscall:::entry' matched 234 probes  \n(^C)  \n...  \nmunmap          31  \nportfs          36  \nlwp_park        37  \nfcntl           39  \nmmap64          53  \n#\n";

/** The talk, seed lines 115-136. Lab 0: systeme.d (quantize of syscall latency, printa with a header), tabs as the slide printed them. */
export const TALK_SYSCALL_LATENCY = "SYSCALL\tNSECS\t# OF OCCURANCES\nread\t\t\n\tvalue\t----- Distribution ----- count\n\t1024\t0\n\t2048\t@@@@@@@@@@@@@@ 3\n\t4096\t@@@@@@@@@@ 2\n\t8192\t@@@@@@@@@@ 2\n\t16384\t@@@@ 1\n\t32768\t0\n\t65536\t0\n\t131072\t0\n\t262144\t0\n\t524288\t0\n\t1048576\t0\n\t2097152\t0\n\t4194304\t0\n\t8388608\t0\n\t16777216\t0\n\t33554432\t0\n\t67108864\t0\n\t134217728\t@@@@ 1\n\t268435456\t0\n";

/** The talk, seed lines 324-355. Lab 0: server-latency.d (quantize per URL and remote address, printa). */
export const TALK_SERVER_LATENCY = "# dtrace -L /usr/local/lib/dtrace -s server-latency.d\n\nURL           : REMOTEADDRESS\n/tmp/words    : 165.225.154.77\nMICROSECONDS\n\nvalue\t----- Distribution -----\tcount\n1024\t\t0\n2048\t@@@@\t11\n4096\t@@@@@@@@@@@@@@@@@@\t43\n8192\t@@@@@@\t14\n16384\t@@@@@@@@@@@@@@\t31\n32768\t\t1\n65536\t\t0\n\n/tmp/words    : 83.79.36.187\nMICROSECONDS\n\nvalue\t----- Distribution -----\tcount\n524288\t\t0\n1048576\t@\t3\n2097152\t@@\t4\n4194304\t@@\t4\n8388608\t@@@@\t11\n16777216\t@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\t74\n33554432\t@@\t4\n67108864\t\t0\n";

/** The talk, seed lines 1129-1145. Lab 5: `::findjsobjects` in mdb with mdb_v8 on SmartOS (as the talk shows it). */
export const TALK_FINDJSOBJECTS = "> ::findjsobjects\n  OBJECT #OBJECTS      #PROPS  CONSTRUCTOR:  PROPS\n8ff2d40d          1          0  Module\n8ff33439          1          0  ReadableState\n8ff39a01          1          0  WriteStream\n8ff34499          1          0  WritableState\n854cf9ad          1          0  <anonymous> (as <anon>)\n8ff254d5          1          0  Buffer\n...\n854d6579        20          4  NativeModule: filename, id, exports,\nloaded\n854cf955        144          1  Object: setInterval\n854cad65         1        177  Object: O_NOFOLLOW, EOVERFLOW,\nEWOULDBLOCK, ...\n854bc345        306          1  Array\n...\n";

/** The talk, seed lines 1153-1174. Lab 5: `854d6579::findjsobjects | ::jsprint`, with mdb's warning in between. */
export const TALK_JSPRINT = "> 854d6579::findjsobjects | ::jsprint\n{\n  filename: \"tty.js\",\n  id: \"tty\",\n  exports: {},\n  loaded: true,\n}\nmdb: 99c08525: unknown JavaScript object type \"Map\"\n{\n  filename: 33564671,\n  id: ,\n  exports: 36,\n  loaded: 209715541,\n}\n{\n  filename: \"vm.js\",\n  id: \"vm\",\n  exports: function Script,\n  loaded: true,\n}\n...\n";

/** Apple dtrace-209 test suite expected output, test/tst/common/aggs/tst.lquantize.d.out (first three aggregation entries): https://opensource.apple.com/source/dtrace/dtrace-209/test/tst/common/aggs/tst.lquantize.d.out.auto.html */
export const DOC_LQUANTIZE_TST = "        0\n           value  ------------- Distribution ------------- count    \n            -100 |                                         0        \n               0 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1        \n             100 |                                         0        \n\n      100\n           value  ------------- Distribution ------------- count    \n               0 |                                         0        \n             100 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1        \n             200 |                                         0        \n\n      200\n           value  ------------- Distribution ------------- count    \n             100 |                                         0        \n             200 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1        \n             300 |                                         0        \n";

/** Oracle Linux DTrace v2 guide, lquantize example 8-24 (write() by fd, per execname; excerpt): https://docs.oracle.com/en/operating-systems/oracle-linux/dtrace-v2-guide/aggregation_lquantize.html */
export const DOC_LQUANTIZE_FDS = " ...\n  gnome-session                                     \n           value  ------------- Distribution ------------- count    \n              25 |                                         0        \n              26 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 9        \n              27 |                                         0        \n\n  gnome-terminal                                    \n           value  ------------- Distribution ------------- count    \n              15 |                                         0        \n              16 |@@                                       1        \n              17 |                                         0        \n              18 |                                         0        \n              19 |                                         0        \n              20 |                                         0        \n              21 |@@@@@@@@                                 4        \n              22 |@@                                       1        \n              23 |@@                                       1        \n";

/** Solaris Dynamic Tracing Guide, Aggregations chapter, writes.d example: https://docs.oracle.com/cd/E19253-01/819-0395/6n2qtspa4/index.html */
export const DOC_COUNT_WRITES = "# dtrace -s writes.d\ndtrace: script './writes.d' matched 1 probe\n^C\n\n  write system calls                                              179\n#\n";
