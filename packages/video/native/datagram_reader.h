#ifndef UDPCAM_DATAGRAM_READER_H
#define UDPCAM_DATAGRAM_READER_H
#include <node_api.h>

/* Adds openDatagramReader to the addon's exports (datagram_reader.c). */
void register_datagram_reader(napi_env env, napi_value exports);

#endif
