/*
 * Memory shared between the recorder's process and its encoder process (src/record/frame-slots.ts): raw frames
 * are copied once into it and only a slot number crosses the encoder's stdin, instead of the kernel copying every
 * frame into the socket pair and out of it again.
 *
 * createSharedMemory(name): number: a new, empty memfd (close-on-exec: a child gets it only as an stdio fd), or -1
 * where the kernel has no memfd_create. Sized with fs.ftruncateSync, closed with fs.closeSync.
 *
 * mapSharedMemory(fd, bytes): ArrayBuffer over the first `bytes` of `fd`, mapped shared: what one process writes
 * there the other reads. Unmapped when the ArrayBuffer is collected. Throws Error("SHARED_MEMORY: ...") when the
 * mapping fails. The mapping is counted as V8 external memory, so that a dropped one is collected in good time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shared_memory.h"

static napi_value create_shared_memory(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  char name[64] = "udpcam";
  size_t length = 0;

  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_get_value_string_utf8(env, argv[0], name, sizeof name, &length);
#ifdef __linux__
  int fd = memfd_create(name, MFD_CLOEXEC);
#else
  int fd = -1;
  (void)name;
#endif
  napi_create_int32(env, fd, &result);
  return result;
}

static void unmap(napi_env env, void *data, void *hint) {
  int64_t left;
  munmap(data, (size_t)hint);
  napi_adjust_external_memory(env, -(int64_t)(size_t)hint, &left);
}

static napi_value map_shared_memory(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t fd = -1;
  int64_t bytes = 0;
  char message[128];

  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int64(env, argv[1], &bytes) != napi_ok || fd < 0 || bytes < 1) {
    napi_throw_type_error(env, NULL, "mapSharedMemory(fd: integer >= 0, bytes: integer >= 1)");
    return NULL;
  }
  void *data = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    snprintf(message, sizeof message, "SHARED_MEMORY: mapping %lld bytes of fd %d failed: %s", (long long)bytes, fd,
             strerror(errno));
    napi_throw_error(env, NULL, message);
    return NULL;
  }
  if (napi_create_external_arraybuffer(env, data, (size_t)bytes, unmap, (void *)(size_t)bytes, &result) != napi_ok) {
    munmap(data, (size_t)bytes);
    napi_throw_error(env, NULL, "SHARED_MEMORY: no external ArrayBuffer in this runtime");
    return NULL;
  }
  // So that V8 counts the mapping and collects (and so unmaps) a dropped one in good time.
  int64_t total;
  napi_adjust_external_memory(env, bytes, &total);
  return result;
}

void register_shared_memory(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "createSharedMemory", NAPI_AUTO_LENGTH, create_shared_memory, NULL, &fn);
  napi_set_named_property(env, exports, "createSharedMemory", fn);
  napi_create_function(env, "mapSharedMemory", NAPI_AUTO_LENGTH, map_shared_memory, NULL, &fn);
  napi_set_named_property(env, exports, "mapSharedMemory", fn);
}
