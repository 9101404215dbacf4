/**
 * What the stand-in dtrace and mdb print in test/unit/illumos-checkers.test.ts,
 * keyed by the file the stand-in reads (<script>.out, mdb.out). Each says
 * whether it is CAPTURED (from the talk, seeds/000_c9dba5042c651c8c.txt) or
 * CONSTRUCTED (in the shape the lab's .d script's printf/printa and mdb_v8 print;
 * never seen from a real illumos run here).
 */

/** A quantize() body as dtrace prints it: rows [value, count]. */
function quantize(rows: [number, number][]): string {
  const total = rows.reduce((s, r) => s + r[1], 0) || 1;
  const body = rows.map(([v, n]) => `${String(v).padStart(16)} |${'@'.repeat(Math.round((40 * n) / total)).padEnd(40)} ${n}`);
  return `\n           value  ------------- Distribution ------------- count\n${body.join('\n')}\n`;
}

export const CANNED = {
  warmUp: {
    // CAPTURED: the talk's count of a node process's system calls (last lines).
    'syscount.out': '\n  munmap          31\n  portfs          36\n  lwp_park        37\n  fcntl           39\n  mmap64          53\n',
    // CONSTRUCTED: server-latency.d's END printa for four URLs from 127.0.0.1.
    'server-latency.out': [
      'URL                 : REMOTEADDRESS   ',
      '/page.txt           : 127.0.0.1       ',
      'MICROSECONDS',
      quantize([[256, 0], [512, 20], [1024, 0]]),
      '/page.txt.sum       : 127.0.0.1       ',
      'MICROSECONDS',
      quantize([[16384, 0], [32768, 20], [65536, 0]]),
      '/echo-server.js     : 127.0.0.1       ',
      'MICROSECONDS',
      quantize([[256, 0], [512, 15], [1024, 5], [2048, 0]]),
      '/nothere            : 127.0.0.1       ',
      'MICROSECONDS',
      quantize([[128, 0], [256, 20], [512, 0]]),
    ].join('\n'),
  },
  bugHunt: {
    // CONSTRUCTED from the talk's capture (rimraf, 5 x chksum, then srcstream,
    // then more chksum) in this lab's file_probes.d format (probe name, chunk number).
    buggy: {
      'file_probes.out': [
        'PROBE      ARG',
        'rimraf     calling rimraf',
        ...[1, 2, 3, 4, 5].map((n) => `chksum     md5sum.update(chunk) ${n}`),
        'srcstream  srcstream.pipe(toStream);',
        ...[6, 7, 8].map((n) => `chksum     md5sum.update(chunk) ${n}`),
        '',
      ].join('\n'),
    },
    // CONSTRUCTED: the fixed app's order (the talk's file_good.js): the pipe first.
    fixed: {
      'file_probes.out': [
        'PROBE      ARG',
        'rimraf     calling rimraf',
        'srcstream  srcstream.pipe(toStream);',
        ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `chksum     md5sum.update(chunk) ${n}`),
        '',
      ].join('\n'),
    },
  },
  restify: {
    // CONSTRUCTED: handler-timing.d's printa ("%s %s %s\n%@d\n") for this lab's demo.js;
    // loadTags in the 32-64 ms bucket as in the script's header example.
    buggy: {
      'handler-timing.out': [
        'demo getfooname parseName',
        quantize([[8, 0], [16, 16], [32, 0]]),
        'demo getfooname loadTags',
        quantize([[16384, 0], [32768, 16], [65536, 0]]),
        'demo getfooname greet',
        quantize([[32, 0], [64, 16], [128, 0]]),
        'demo getping ping',
        quantize([[8, 0], [16, 8], [32, 0]]),
      ].join('\n'),
    },
    fixed: {
      'handler-timing.out': [
        'demo getfooname parseName',
        quantize([[8, 0], [16, 16], [32, 0]]),
        'demo getfooname loadTags',
        quantize([[32, 0], [64, 16], [128, 0]]),
        'demo getfooname greet',
        quantize([[32, 0], [64, 16], [128, 0]]),
        'demo getping ping',
        quantize([[8, 0], [16, 8], [32, 0]]),
      ].join('\n'),
    },
  },
};

/** A jstack() aggregation entry as dtrace prints it: indented frames, then the count. */
function stack(frames: string[], count: number): string {
  return `\n${frames.map((f) => `              ${f}`).join('\n')}\n${String(count).padStart(15)}\n`;
}
const REPORT = '/export/home/student/03-flame-graphs/app/report.js';
const LEAK = '/export/home/student/04-memory-leak/app/leak2.js';

export const CANNED_MORE = {
  flameGraphs: {
    // CONSTRUCTED in the shape of profile-97.d's header example (Node 6 jstack(),
    // "position N"): isNew innermost in most samples of the original.
    hot: stack(['node`_ZN2v88internal7Runtime_Foo+0x2a', '<< internal code >>', `isNew at ${REPORT} position 1567`, `summarise at ${REPORT} position 1912`, `report at ${REPORT} position 2500`], 451) +
      stack([`summarise at ${REPORT} position 1912`, `report at ${REPORT} position 2500`], 60) +
      stack(['libc.so.1`memcpy+0x10', `parseLine at ${REPORT} position 900`, `summarise at ${REPORT} position 1912`], 40),
    // CONSTRUCTED: after a fix, no report.js function dominates.
    flat: stack([`summarise at ${REPORT} position 1912`, `report at ${REPORT} position 2500`], 120) +
      stack([`parseLine at ${REPORT} position 900`, `summarise at ${REPORT} position 1912`], 150) +
      stack([`isNew at ${REPORT} position 1567`, `summarise at ${REPORT} position 1912`], 20) +
      stack(['node`uv_run+0x120'], 200),
  },
  memoryLeak: {
    // CONSTRUCTED in the shape of the talk's mmap capture (mmap.d's header): the
    // heap grows under renderPage/servePage.
    leaking: stack(['libc.so.1`mmap+0x15', 'node`_ZN2v88internal15MemoryAllocator20ReserveAlignedMemoryEjjP', '<< internal code >>', `renderPage at ${LEAK} line 22`, `servePage at ${LEAK} line 38`, `tick at ${LEAK} line 46`], 12),
    flat: '',
  },
  postMortem: {
    // CONSTRUCTED from this lab's steps (02-findjsobjects.md, 03-inspect.md), with
    // the ::echo markers the checker puts between its dcmds.
    'mdb.out': [
      'tracelab-section 1',
      '  OBJECT #OBJECTS #PROPS CONSTRUCTOR: PROPS',
      '8ff2d40d        1      2 Coupon: code, percent',
      '854cf955       12      3 Cart: owner, items, coupon',
      '8ff33439      185      4 Order: id, customer, total, state',
      '8ff33501       15      4 Order: id, customer, total, state, note',
      '8ff10001       40      2 Customer: id, name',
      '8ff20001        3      2 Promotion: title, coupon',
      'tracelab-section 2',
      '{',
      '    code: "TL-V4K8NH",',
      '    percent: 30,',
      '}',
      'tracelab-section 3',
      '8ff2d40d referred to by 8ff20031.coupon',
      '',
    ].join('\n'),
    // CONSTRUCTED: what REF::jsconstructor prints for the referring object.
    'jsconstructor.out': 'Promotion\n',
  },
};
