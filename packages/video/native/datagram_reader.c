/*
 * A UDP socket read in batches into reused memory (the receiver's ingest thread, apps/receiver/src/ingest): Node's
 * dgram allocates, zeroes and copies a buffer per datagram and makes a JS event with a new `rinfo` for each; this
 * reads up to `slots` datagrams per recvmmsg into one ring and calls JS once per batch.
 *
 * openDatagramReader(fd, slots, slotBytes, roundsPerWake, onBatch): reader. Dups `fd` (a bound IPv4 UDP socket:
 * the dgram socket stays for binding, options, membership and sending), watches the dup with uv_poll on the
 * calling thread's loop and, each time it is readable, calls recvmmsg(MSG_DONTWAIT) into the ring and then
 * onBatch(count), at most `roundsPerWake` times (fewer when a batch does not fill the ring: the socket is drained),
 * so that the thread's timers and messages get their turn; the poll is level-triggered and comes back.
 *   reader.ring: ArrayBuffer of slots * slotBytes; datagram i of a batch is at i * slotBytes, valid only during
 *     onBatch (the next batch overwrites it).
 *   reader.meta: ArrayBuffer: Int32 lengths[slots] (-1: truncated, dropped), Uint32 addresses[slots] (IPv4, host
 *     order), Uint32 ports[slots], then Float64 counters[COUNTERS] at byte 12 * slots (rounded up to 8): datagrams,
 *     truncated, errors, batches, wakeups. Counted, never thrown per datagram.
 *   reader.close(): stops watching (uv_close) and closes the dup; idempotent. A reader collected without close()
 *     is closed by its finalizer; a worker that ends with one open closes it in an async cleanup hook. The ring is
 *     V8's memory, freed with the ArrayBuffer.
 * Throws Error("DATAGRAM_READER: ...") when it cannot start (no recvmmsg: not Linux; dup or uv_poll failed).
 * An exception thrown by onBatch stops that wake-up and goes to the thread's uncaught exception handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "datagram_reader.h"

enum { C_DATAGRAMS, C_TRUNCATED, C_ERRORS, C_BATCHES, C_WAKEUPS, COUNTERS };
enum { MAX_SLOTS = 1024, MAX_SLOT_BYTES = 65536, MAX_ERRORS_IN_A_ROW = 1000 };

typedef struct reader {
  uv_poll_t poll; /* first: the handle's pointer is the reader's */
  napi_env env;
  int fd;
  int slots;
  int rounds;
  int errors_in_a_row; /* poll errors since the last datagram */
  size_t slot_bytes;
  int open;          /* watching; close() not yet called */
  int handle_closed; /* uv_close's callback ran */
  int wrapper_gone;  /* the JS object was finalized: the struct is ours alone */
  napi_ref on_batch, ring_ref, meta_ref;
  napi_async_context context;
  napi_async_cleanup_hook_handle cleanup;
  uint8_t *ring;
  int32_t *lengths;
  uint32_t *addresses, *ports;
  double *counters;
#ifdef __linux__
  struct mmsghdr *messages;
  struct iovec *iovecs;
  struct sockaddr_in *names;
#endif
} reader;

static napi_value fail(napi_env env, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "DATAGRAM_READER: %s", what);
  napi_throw_error(env, "DATAGRAM_READER", message);
  return NULL;
}

static void free_reader(reader *r) {
#ifdef __linux__
  free(r->messages);
  free(r->iovecs);
  free(r->names);
#endif
  free(r);
}

static void on_handle_closed(uv_handle_t *handle) {
  reader *r = (reader *)handle;
  close(r->fd);
  r->fd = -1;
  r->handle_closed = 1;
  if (r->cleanup != NULL) {
    napi_remove_async_cleanup_hook(r->cleanup);
    r->cleanup = NULL;
  }
  if (r->wrapper_gone) free_reader(r);
}

/* Stops watching: the dup is closed once libuv lets go of the handle. References are released here, so that a
 * reader closed but still held by JS keeps no callback alive. */
static void stop(reader *r, int env_alive) {
  if (!r->open) return;
  r->open = 0;
  uv_poll_stop(&r->poll);
  if (env_alive) {
    napi_delete_reference(r->env, r->on_batch);
    napi_delete_reference(r->env, r->ring_ref);
    napi_delete_reference(r->env, r->meta_ref);
    napi_async_destroy(r->env, r->context);
  }
  uv_close((uv_handle_t *)&r->poll, on_handle_closed);
}

static void on_cleanup(napi_async_cleanup_hook_handle handle, void *data) {
  reader *r = data;
  (void)handle;
  if (r->open) stop(r, 0);
  /* else a close is under way: its callback removes the hook */
}

static void on_finalize(napi_env env, void *data, void *hint) {
  reader *r = data;
  (void)env;
  (void)hint;
  stop(r, 1);
  r->wrapper_gone = 1;
  if (r->handle_closed) free_reader(r);
}

static int detached(napi_env env, napi_ref ref) {
  napi_value value;
  bool is = true;
  if (napi_get_reference_value(env, ref, &value) != napi_ok || value == NULL) return 1;
  napi_is_detached_arraybuffer(env, value, &is);
  return is;
}

#ifdef __linux__
/* One recvmmsg into the ring; returns the datagrams read (lengths filled), 0 when none is waiting, -1 on an
 * error that ends this wake-up. */
static int read_batch(reader *r) {
  for (int i = 0; i < r->slots; i++) {
    r->messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    r->messages[i].msg_hdr.msg_flags = 0;
  }
  int n;
  do n = recvmmsg(r->fd, r->messages, (unsigned)r->slots, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    r->counters[C_ERRORS]++;
    /* A pending ICMP error (ECONNREFUSED after a NACK to a closed port) is reported once and cleared: read on. */
    return errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ? -2 : -1;
  }
  for (int i = 0; i < n; i++) {
    const struct msghdr *h = &r->messages[i].msg_hdr;
    if (h->msg_flags & MSG_TRUNC) {
      r->counters[C_TRUNCATED]++;
      r->lengths[i] = -1;
    } else {
      r->lengths[i] = (int32_t)r->messages[i].msg_len;
    }
    r->addresses[i] = ntohl(r->names[i].sin_addr.s_addr);
    r->ports[i] = ntohs(r->names[i].sin_port);
  }
  r->counters[C_DATAGRAMS] += n;
  return n;
}
#endif

static void on_readable(uv_poll_t *handle, int status, int events) {
  reader *r = (reader *)handle;
  (void)events;
  if (!r->open) return;
  if (status < 0) {
    /* libuv stops a poll handle on POLLERR (a pending socket error: an ICMP error with IP_RECVERR, say) and says
     * UV_EBADF. Counted; watched again, and read below, which reports the error and clears it. A descriptor that
     * only errs is given up after a run of them (it would wake the loop for nothing). */
    r->counters[C_ERRORS]++;
    if (++r->errors_in_a_row > MAX_ERRORS_IN_A_ROW || uv_poll_start(&r->poll, UV_READABLE, on_readable) != 0) {
      stop(r, 1);
      return;
    }
  }
#ifdef __linux__
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_callback_scope callback_scope;
  napi_value resource, callback, global, count, ignored;
  r->counters[C_WAKEUPS]++;
  napi_open_handle_scope(env, &scope);
  if (detached(env, r->ring_ref) || detached(env, r->meta_ref)) {
    /* Someone transferred the memory away: nothing more can be read into it. */
    r->counters[C_ERRORS]++;
    stop(r, 1);
    napi_close_handle_scope(env, scope);
    return;
  }
  napi_create_object(env, &resource);
  napi_open_callback_scope(env, resource, r->context, &callback_scope);
  napi_get_reference_value(env, r->on_batch, &callback);
  napi_get_global(env, &global);
  for (int round = 0; round < r->rounds && r->open; round++) {
    int n = read_batch(r);
    if (n == -2) continue;
    if (n <= 0) break;
    r->errors_in_a_row = 0;
    r->counters[C_BATCHES]++;
    napi_create_int32(env, n, &count);
    if (napi_call_function(env, global, callback, 1, &count, &ignored) == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
      break;
    }
    if (n < r->slots) break; /* drained */
  }
  napi_close_callback_scope(env, callback_scope);
  napi_close_handle_scope(env, scope);
#endif
}

static napi_value close_reader(napi_env env, napi_callback_info info) {
  napi_value self;
  reader *r;
  napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
  if (napi_unwrap(env, self, (void **)&r) == napi_ok && r != NULL) stop(r, 1);
  return NULL;
}

static napi_value open_reader(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result, ring, meta, fn;
  int32_t fd, slots, slot_bytes, rounds;
  napi_valuetype type;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &slots) != napi_ok ||
      napi_get_value_int32(env, argv[2], &slot_bytes) != napi_ok ||
      napi_get_value_int32(env, argv[3], &rounds) != napi_ok || napi_typeof(env, argv[4], &type) != napi_ok ||
      type != napi_function)
    return fail(env, "use openDatagramReader(fd, slots, slotBytes, roundsPerWake, onBatch)");
  if (fd < 0 || slots < 1 || slots > MAX_SLOTS || slot_bytes < 1 || slot_bytes > MAX_SLOT_BYTES || rounds < 1)
    return fail(env, "fd, slots (1-1024), slotBytes (1-65536) or roundsPerWake (1 up) out of range");
#ifndef __linux__
  return fail(env, "recvmmsg is Linux's");
#else
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return fail(env, "no event loop");
  reader *r = calloc(1, sizeof *r);
  if (r == NULL) return fail(env, "out of memory");
  r->env = env;
  r->slots = slots;
  r->rounds = rounds;
  r->slot_bytes = (size_t)slot_bytes;
  r->messages = calloc((size_t)slots, sizeof *r->messages);
  r->iovecs = calloc((size_t)slots, sizeof *r->iovecs);
  r->names = calloc((size_t)slots, sizeof *r->names);
  size_t counters_at = ((size_t)12 * slots + 7) & ~(size_t)7;
  void *ring_data, *meta_data;
  if (r->messages == NULL || r->iovecs == NULL || r->names == NULL) {
    free_reader(r);
    return fail(env, "out of memory");
  }
  if (napi_create_arraybuffer(env, (size_t)slots * r->slot_bytes, &ring_data, &ring) != napi_ok ||
      napi_create_arraybuffer(env, counters_at + COUNTERS * sizeof(double), &meta_data, &meta) != napi_ok) {
    free_reader(r);
    return fail(env, "cannot allocate the ring");
  }
  r->ring = ring_data;
  r->lengths = meta_data;
  r->addresses = (uint32_t *)((uint8_t *)meta_data + 4 * (size_t)slots);
  r->ports = (uint32_t *)((uint8_t *)meta_data + 8 * (size_t)slots);
  r->counters = (double *)((uint8_t *)meta_data + counters_at);
  for (int i = 0; i < slots; i++) {
    r->iovecs[i].iov_base = r->ring + (size_t)i * r->slot_bytes;
    r->iovecs[i].iov_len = r->slot_bytes;
    r->messages[i].msg_hdr.msg_iov = &r->iovecs[i];
    r->messages[i].msg_hdr.msg_iovlen = 1;
    r->messages[i].msg_hdr.msg_name = &r->names[i];
  }
  r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (r->fd < 0) {
    char what[96];
    snprintf(what, sizeof what, "cannot dup fd %d: %s", fd, strerror(errno));
    free_reader(r);
    return fail(env, what);
  }
  int status = uv_poll_init(loop, &r->poll, r->fd);
  if (status != 0) {
    char what[96];
    snprintf(what, sizeof what, "uv_poll_init on fd %d: %s", r->fd, uv_strerror(status));
    close(r->fd);
    free_reader(r);
    return fail(env, what);
  }
  status = uv_poll_start(&r->poll, UV_READABLE, on_readable);
  if (status != 0) {
    char what[96];
    snprintf(what, sizeof what, "uv_poll_start on fd %d: %s", r->fd, uv_strerror(status));
    r->wrapper_gone = 1; /* the handle's close callback closes the dup and frees it */
    uv_close((uv_handle_t *)&r->poll, on_handle_closed);
    return fail(env, what);
  }
  r->open = 1;
  napi_value name, resource;
  napi_create_string_utf8(env, "udpcam:datagram-reader", NAPI_AUTO_LENGTH, &name);
  /* A resource of its own: the async context holds it strongly, and holding `result` would keep it from its
   * finalizer. */
  napi_create_object(env, &resource);
  napi_async_init(env, resource, name, &r->context);
  napi_create_object(env, &result);
  napi_create_reference(env, argv[4], 1, &r->on_batch);
  napi_create_reference(env, ring, 1, &r->ring_ref);
  napi_create_reference(env, meta, 1, &r->meta_ref);
  napi_set_named_property(env, result, "ring", ring);
  napi_set_named_property(env, result, "meta", meta);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, close_reader, NULL, &fn);
  napi_set_named_property(env, result, "close", fn);
  napi_wrap(env, result, r, on_finalize, NULL, NULL);
  napi_add_async_cleanup_hook(env, on_cleanup, r, &r->cleanup);
  return result;
#endif
}

void register_datagram_reader(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "openDatagramReader", NAPI_AUTO_LENGTH, open_reader, NULL, &fn);
  napi_set_named_property(env, exports, "openDatagramReader", fn);
}
