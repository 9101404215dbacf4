/**
 * Preloaded (`node -r`) into a lab app by a checker: appends "ms heapUsed" to the file
 * named by TRACELAB_HEAP_LOG every 100 ms, so the check can plot the V8 heap of an app
 * it does not control. Unref'd: it never keeps the app alive or changes its output.
 */
import * as fs from 'fs';

const file = process.env.TRACELAB_HEAP_LOG;
if (file) {
  const t0 = Date.now();
  const timer = setInterval(() => {
    try {
      fs.appendFileSync(file, `${Date.now() - t0} ${process.memoryUsage().heapUsed}\n`);
    } catch {
      clearInterval(timer);
    }
  }, 100);
  timer.unref();
}
