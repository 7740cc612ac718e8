#ifndef UDPCAM_SHARED_MEMORY_H
#define UDPCAM_SHARED_MEMORY_H
#include <node_api.h>

/* Adds createSharedMemory and mapSharedMemory to the addon's exports (shared_memory.c). */
void register_shared_memory(napi_env env, napi_value exports);

#endif
