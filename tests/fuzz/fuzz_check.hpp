// Invariant checks for the fuzz targets: a violated invariant prints what was
// expected and aborts, which libFuzzer reports as a crash with the input.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__,        \
                   __LINE__, #cond);                                           \
      std::fprintf(stderr, "  " __VA_ARGS__);                                  \
      std::fprintf(stderr, "\n");                                              \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

#include <sys/resource.h>

/// Caps the main thread's stack (default 512 KiB, env NETPOL_FUZZ_STACK_KIB)
/// so that recursion growing with the input overflows at the few-kilobyte
/// inputs the fuzzer tries, not only at the megabyte bodies the proxy takes
/// (8 MiB thread stacks). Call from LLVMFuzzerInitialize; the kernel checks
/// the limit each time the stack grows.
inline void fuzz_limit_stack() {
  rlim_t kib = 512;
  if (const char* env = std::getenv("NETPOL_FUZZ_STACK_KIB"))
    kib = std::strtoul(env, nullptr, 10);
  struct rlimit lim;
  if (kib == 0 || getrlimit(RLIMIT_STACK, &lim) != 0)
    return;
  if (lim.rlim_max == RLIM_INFINITY || kib * 1024 <= lim.rlim_max)
    lim.rlim_cur = kib * 1024;
  setrlimit(RLIMIT_STACK, &lim);
}
