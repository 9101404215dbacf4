'use strict';
// dtrace-provider's API with real probes everywhere the labs run.
//
// Linux: every app probe fires one USDT probe, tracelab:fire, in this package's
// addon, with arg0 = "provider:probe" and arg1..arg5 = the probe's arguments
// (see README.md). Arguments are built only while a tracer is attached: the
// probe's semaphore is read from JS through a Uint16Array over its memory.
// illumos / macOS / FreeBSD: the real dtrace-provider, if installed beside us
// under the name real-dtrace-provider (or at $TRACELAB_REAL_DTRACE_PROVIDER),
// so `dtrace -l -P 'app*'` sees real per-provider probes.
// Anywhere else, or when neither is there: the same API doing nothing.
//
// Plain ES5 CommonJS on purpose: the illumos track runs Node 6.
var path = require('path');

var MAX_ARGS = 5; // bpftrace 0.17 reads arg0..arg5; arg0 is the label

var ADDON = path.join(__dirname, 'build', 'Release', 'tracelab_usdt.node');
var DTRACE_PLATFORMS = { sunos: true, darwin: true, freebsd: true };

function debug(msg) {
  if (process.env.TRACELAB_USDT_DEBUG) process.stderr.write('dtrace-provider (tracelab): ' + msg + '\n');
}

function loadReal() {
  var tries = [];
  if (process.env.TRACELAB_REAL_DTRACE_PROVIDER) tries.push(process.env.TRACELAB_REAL_DTRACE_PROVIDER);
  tries.push('real-dtrace-provider');
  for (var i = 0; i < tries.length; i++) {
    try {
      return require(tries[i]);
    } catch (e) {
      debug('could not load ' + tries[i] + ': ' + e.message);
    }
  }
  return null;
}

var binding = null;
var loadError = null;
if (process.platform === 'linux') {
  try {
    binding = require(ADDON);
  } catch (e) {
    loadError = e;
    debug('USDT addon not loaded, probes will not fire (' + e.message + '). ' +
      'Build it: (cd ' + __dirname + ' && npm run build-addon)');
  }
}

var real = !binding && DTRACE_PLATFORMS[process.platform] ? loadReal() : null;

// Non-zero while any tracer is attached to tracelab:fire. Without the addon a
// zero that never changes, so every fire() returns at the first test.
var semaphore = binding ? new Uint16Array(binding.semaphore) : new Uint16Array(1);
var fireNative = binding ? binding.fire : function () { return false; };

function toInt(v) {
  var n = typeof v === 'number' ? v : Number(v);
  return n === n ? n : 0; // NaN (and undefined) become 0, like dtrace-provider's ToInteger
}

function toStr(v) {
  return v === undefined ? 'undefined' : String(v);
}

function toJson(v) {
  if (v === undefined) return 'undefined';
  try {
    var s = JSON.stringify(v);
    return s === undefined ? 'undefined' : s;
  } catch (e) {
    return '{ "error": "stringify failed" }';
  }
}

// 'char *' and 'json' as dtrace-provider spells them; any other type is an
// int there (restify declares one probe argument as 'id'), so here too.
function kindOf(type) {
  if (type === 'json') return 'json';
  if (typeof type === 'string' && type.replace(/\s+/g, '') === 'char*') return 'str';
  return 'int';
}

function convert(kind, v) {
  if (kind === 'int') return toInt(v);
  if (kind === 'str') return toStr(v);
  return toJson(v);
}

function DTraceProbe(provider, name, types) {
  this.provider = provider;
  this.name = name;
  this.types = types;
  this.kinds = types.map(kindOf);
  this.label = provider.name + ':' + name;
}

// Calls cb (with any extra arguments) only while traced and enabled; fires with
// the array it returns. Returns true when the probe fired, like dtrace-provider.
DTraceProbe.prototype.fire = function (cb) {
  if (typeof cb !== 'function') throw new TypeError('Must give probe value callback as first argument');
  if (semaphore[0] === 0 || !this.provider.enabled) return undefined;
  var extra = [];
  for (var i = 1; i < arguments.length; i++) extra.push(arguments[i]);
  return this._fireWith(cb, extra);
};

DTraceProbe.prototype._fireWith = function (cb, extra) {
  var values = cb.apply(this, extra);
  if (!Array.isArray(values)) return undefined;
  var kinds = this.kinds;
  var args = [this.label];
  var n = kinds.length;
  var direct = n > MAX_ARGS ? MAX_ARGS - 1 : n;
  var i;
  for (i = 0; i < direct; i++) args.push(convert(kinds[i], values[i]));
  if (n > MAX_ARGS) {
    // What does not fit goes into the last slot as one JSON array, each value
    // as its own type: route-start's arg5 is ["<url>",{<headers>}].
    var rest = [];
    for (i = direct; i < n; i++) {
      rest.push(kinds[i] === 'int' ? toInt(values[i]) : kinds[i] === 'str' ? toStr(values[i]) : values[i]);
    }
    args.push(toJson(rest));
  }
  fireNative.apply(null, args);
  return true;
};

function DTraceProvider(name, module) {
  if (typeof name !== 'string' || name === '') throw new TypeError('Must give provider name as argument');
  this.name = name;
  this.module = module === undefined ? name : module;
  this.enabled = false;
  this._probes = {};
}

DTraceProvider.prototype.addProbe = function (name) {
  if (typeof name !== 'string' || name === '') throw new TypeError('Must give probe name as first argument');
  var types = Array.prototype.slice.call(arguments, 1);
  if (types.length > 32) throw new Error('dtrace-provider: at most 32 probe arguments');
  var probe = new DTraceProbe(this, name, types);
  this._probes[name] = probe;
  return probe;
};

DTraceProvider.prototype.removeProbe = function (probe) {
  if (probe && this._probes[probe.name] === probe) delete this._probes[probe.name];
  return probe;
};

DTraceProvider.prototype.enable = function () { this.enabled = true; };
DTraceProvider.prototype.disable = function () { this.enabled = false; };

DTraceProvider.prototype.fire = function (name, cb) {
  if (typeof name !== 'string') throw new TypeError('Must give probe name as first argument');
  if (typeof cb !== 'function') throw new TypeError('Must give probe value callback as second argument');
  if (semaphore[0] === 0 || !this.enabled) return undefined;
  var probe = this._probes[name];
  if (!probe) return undefined;
  var extra = [];
  for (var i = 2; i < arguments.length; i++) extra.push(arguments[i]);
  return probe._fireWith(cb, extra);
};

if (real) {
  module.exports = real;
} else {
  exports.DTraceProvider = DTraceProvider;
  exports.DTraceProbe = DTraceProbe;
  exports.createDTraceProvider = function (name, module) {
    return new DTraceProvider(name, module);
  };
  // tracelab extras (not in dtrace-provider):
  // addonPath: the .node file to give bpftrace (usdt:<addonPath>:tracelab:fire), or null.
  exports.addonPath = binding ? ADDON : null;
  // loadError: why the addon did not load on Linux (null when it did).
  exports.loadError = loadError;
  // traced(): is a tracer attached to tracelab:fire right now?
  exports.traced = function () { return semaphore[0] !== 0; };
  exports.MAX_ARGS = MAX_ARGS;
}
