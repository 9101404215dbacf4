{
  "targets": [
    {
      "target_name": "tracelab_usdt",
      "sources": ["src/usdt.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
