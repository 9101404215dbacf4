#!/usr/bin/env node
'use strict';
// Bundles the browser code (portal/client/*.ts entry points) with esbuild into
// portal/public/build/. The portal serves that directory; it is never committed.
const path = require('path');
const fs = require('fs');
const esbuild = require('esbuild');

const clientDir = path.join(__dirname, '..', 'portal', 'client');
const outdir = path.join(__dirname, '..', 'portal', 'public', 'build');
const entries = fs.existsSync(clientDir)
  ? fs.readdirSync(clientDir).filter((f) => /^[a-z-]+\.entry\.ts$/.test(f)).map((f) => path.join(clientDir, f))
  : [];
fs.mkdirSync(outdir, { recursive: true });
if (!entries.length) {
  console.log('build-client: no portal/client/*.entry.ts yet');
  process.exit(0);
}
esbuild
  .build({
    entryPoints: entries,
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'iife',
    target: ['chrome110', 'firefox110', 'safari16'],
    outdir,
    entryNames: '[name]',
    loader: { '.css': 'css' },
    logLevel: 'warning',
  })
  .catch(() => process.exit(1));
