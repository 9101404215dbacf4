/**
 * Preloaded (`node -r`) into leak2.js by the lab 4 checker: once the app's event loop
 * is empty (it served its --requests, or gave up), write the file named by
 * TRACELAB_LINGER_FILE and keep the process alive, idle, until the checker stops it,
 * so a tracer still running can resolve its stacks (bpftrace and dtrace name frames
 * from the live process when they print). Changes no output. Node 6 syntax only:
 * it also runs on the illumos track's Node 6.
 */
import fs = require('fs');

var lingering = false;
process.on('beforeExit', function () {
  if (lingering) return;
  lingering = true;
  try {
    if (process.env.TRACELAB_LINGER_FILE) fs.writeFileSync(process.env.TRACELAB_LINGER_FILE, String(process.pid));
  } catch (e) {
    /* the checker then waits for the served line or its own limit */
  }
  setTimeout(function () {}, 60000);
});
