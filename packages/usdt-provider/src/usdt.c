/*
 * tracelab USDT addon: one static probe, tracelab:fire, that carries every
 * app probe of every provider. Per-provider probes like illumos' dtrace-provider
 * would need runtime-generated ELF notes; one generic probe with the
 * "provider:probe" name in arg0 needs nothing but sys/sdt.h and lets bpftrace
 * filter on str(arg0).
 *
 * The probe has a semaphore (the kernel or bpftrace bumps it while a tracer is
 * attached). It is exported to JS as a 2-byte ArrayBuffer over its own memory
 * so the JS side can skip building arguments with one typed-array load.
 */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The name sys/sdt.h expects: <provider>_<probe>_semaphore, in section .probes. */
__extension__ unsigned short tracelab_fire_semaphore
    __attribute__((unused)) __attribute__((section(".probes")));

#define MAX_ARGS 5

/* An argument is an int64 or a heap copy of a UTF-8 string (freed after firing). */
static int to_arg(napi_env env, napi_value v, int64_t *out, char **owned) {
  napi_valuetype t;
  size_t len = 0;
  *owned = NULL;
  *out = 0;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_number) {
    double d;
    if (napi_get_value_double(env, v, &d) != napi_ok) return -1;
    /* NaN and out-of-range values become 0 rather than undefined behaviour. */
    if (d == d && d > -9.2e18 && d < 9.2e18) *out = (int64_t)d;
    return 0;
  }
  if (t == napi_bigint) {
    bool lossless;
    return napi_get_value_bigint_int64(env, v, out, &lossless) == napi_ok ? 0 : -1;
  }
  if (t != napi_string) {
    if (napi_coerce_to_string(env, v, &v) != napi_ok) return -1;
  }
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return -1;
  *owned = malloc(len + 1);
  if (*owned == NULL) return -1;
  if (napi_get_value_string_utf8(env, v, *owned, len + 1, &len) != napi_ok) return -1;
  *out = (int64_t)(intptr_t)*owned;
  return 0;
}

/* fire(label, a1..a5): label is "provider:probe"; each a is a number or string. */
static napi_value fire(napi_env env, napi_callback_info info) {
  size_t argc = 1 + MAX_ARGS;
  napi_value argv[1 + MAX_ARGS];
  int64_t a[MAX_ARGS] = {0, 0, 0, 0, 0};
  char *owned[1 + MAX_ARGS] = {NULL, NULL, NULL, NULL, NULL, NULL};
  int64_t label = 0;
  size_t i;
  napi_value result;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) {
    napi_throw_type_error(env, "USDT_LABEL", "fire(label, ...args): label is required");
    return NULL;
  }
  if (to_arg(env, argv[0], &label, &owned[0]) != 0) goto fail;
  for (i = 1; i < argc && i <= MAX_ARGS; i++) {
    if (to_arg(env, argv[i], &a[i - 1], &owned[i]) != 0) goto fail;
  }
  STAP_PROBE6(tracelab, fire, (const char *)(intptr_t)label,
              a[0], a[1], a[2], a[3], a[4]);
  for (i = 0; i <= MAX_ARGS; i++) free(owned[i]);
  napi_get_boolean(env, true, &result);
  return result;
fail:
  for (i = 0; i <= MAX_ARGS; i++) free(owned[i]);
  napi_throw_error(env, "USDT_ARG", "could not convert a probe argument");
  return NULL;
}

static void no_free(napi_env env, void *data, void *hint) {
  (void)env; (void)data; (void)hint;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, sem;
  if (napi_create_function(env, "fire", NAPI_AUTO_LENGTH, fire, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "fire", fn) != napi_ok) return NULL;
  /* The semaphore lives as long as the library: never freed. */
  if (napi_create_external_arraybuffer(env, (void *)&tracelab_fire_semaphore,
                                       sizeof(tracelab_fire_semaphore), no_free,
                                       NULL, &sem) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "semaphore", sem) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
