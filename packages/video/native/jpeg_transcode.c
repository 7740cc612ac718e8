/*
 * JPEG to JPEG through libjpeg's raw (YCbCr, subsampled) data: each frame is decoded and encoded again at
 * another quality with no colour conversion and no up- or downsampling, as GStreamer's jpegdec ! jpegenc do
 * (I420 between them). OpenCV's imdecode/imencode go through BGR both ways: for a 1280x720 frame that round
 * trip, and the copies of the BGR frame, cost more than the DCT work itself.
 *
 * transcode(jpeg: Buffer, quality: 1..100): Promise<Buffer>, on libuv's thread pool. Rejects with
 * Error("JPEG_INVALID: ...") for input libjpeg cannot decode.
 *
 * encodeBgr(bgr: Buffer, width, height, quality: 1..100): Promise<Buffer>: bgr24 pixels (width * 3 bytes a row)
 * to a baseline JPEG, with the settings OpenCV's imencode(".jpg") gives libjpeg (its defaults, 4:2:0, the
 * quality's tables; BGR in through libjpeg-turbo's JCS_EXT_BGR), so that a process that only encodes
 * frames (the sender's test pattern) need not load OpenCV, some 85 MB of libraries.
 *
 * setSendBuffer(fd, bytes): number: asks for a send buffer of `bytes` on socket `fd` (SO_SNDBUF), returns what
 * the socket has then (getsockopt: Linux caps the request at net.core.wmem_max and doubles it for its own
 * bookkeeping), or -1 when `fd` is not a socket or the call failed. Never throws for a failed call: a smaller
 * buffer only means more, smaller writes. For the encoder process's stdin (a socket pair), so that a frame goes
 * in one write rather than ten (src/record/encoder-spawn.ts).
 */
#include <node_api.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <sys/socket.h>

#include "datagram_reader.h"
#include "shared_memory.h"

struct failure {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr info) {
  struct failure *failure = (struct failure *)info->err;
  (*info->err->format_message)(info, failure->message);
  longjmp(failure->jump, 1);
}

static void on_message(j_common_ptr info, int level) {
  (void)info;
  (void)level; /* warnings (e.g. corrupt data recovered from) are not errors here */
}

struct job {
  /* in */
  napi_ref input_ref;
  const unsigned char *input;
  size_t input_length;
  int quality;
  /* encodeBgr: the frame's size (width 0: a transcode) */
  int width;
  int height;
  /* out */
  unsigned char *output;
  unsigned long output_length;
  char error[JMSG_LENGTH_MAX + 32];
  napi_deferred deferred;
  napi_async_work work;
};

static void transcode(struct job *job) {
  struct jpeg_decompress_struct in;
  struct jpeg_compress_struct out;
  struct failure in_failure, out_failure;
  JSAMPARRAY planes[MAX_COMPONENTS];
  JSAMPROW rows[MAX_COMPONENTS][4 * DCTSIZE];
  unsigned char *volatile buffer = NULL;
  volatile int out_created = 0;
  int ci;

  memset(planes, 0, sizeof planes);
  in.err = jpeg_std_error(&in_failure.mgr);
  in_failure.mgr.error_exit = on_error;
  in_failure.mgr.emit_message = on_message;
  out.err = jpeg_std_error(&out_failure.mgr);
  out_failure.mgr.error_exit = on_error;
  out_failure.mgr.emit_message = on_message;
  job->output = NULL;
  job->output_length = 0;

  if (setjmp(in_failure.jump) || setjmp(out_failure.jump)) {
    snprintf(job->error, sizeof job->error, "JPEG_INVALID: %s",
             in_failure.message[0] != 0 ? in_failure.message : out_failure.message);
    if (out_created) jpeg_destroy_compress(&out);
    jpeg_destroy_decompress(&in);
    free(buffer);
    free(job->output);
    job->output = NULL;
    return;
  }
  in_failure.message[0] = 0;
  out_failure.message[0] = 0;

  jpeg_create_decompress(&in);
  jpeg_mem_src(&in, job->input, (unsigned long)job->input_length);
  jpeg_read_header(&in, TRUE);
  in.raw_data_out = TRUE;
  in.do_fancy_upsampling = FALSE;
  jpeg_start_decompress(&in);
  if (in.max_v_samp_factor > 4 || in.num_components > MAX_COMPONENTS) {
    snprintf(job->error, sizeof job->error, "JPEG_INVALID: sampling factors this code does not handle");
    jpeg_destroy_decompress(&in);
    return;
  }

  jpeg_create_compress(&out);
  out_created = 1;
  jpeg_mem_dest(&out, &job->output, &job->output_length);
  out.image_width = in.image_width;
  out.image_height = in.image_height;
  out.input_components = in.num_components;
  out.in_color_space = in.jpeg_color_space;
  jpeg_set_defaults(&out);
  jpeg_set_colorspace(&out, in.jpeg_color_space);
  for (ci = 0; ci < in.num_components; ci++) {
    out.comp_info[ci].h_samp_factor = in.comp_info[ci].h_samp_factor;
    out.comp_info[ci].v_samp_factor = in.comp_info[ci].v_samp_factor;
  }
  out.raw_data_in = TRUE;
  jpeg_set_quality(&out, job->quality, TRUE);
  jpeg_start_compress(&out, TRUE);

  /* One iMCU row of every component: v_samp_factor * DCTSIZE rows of width_in_blocks * DCTSIZE samples. */
  {
    size_t total = 0, offset = 0;
    for (ci = 0; ci < in.num_components; ci++)
      total += (size_t)in.comp_info[ci].width_in_blocks * DCTSIZE * in.comp_info[ci].v_samp_factor * DCTSIZE;
    buffer = malloc(total);
    if (buffer == NULL) {
      snprintf(job->error, sizeof job->error, "out of memory");
      jpeg_destroy_compress(&out);
      jpeg_destroy_decompress(&in);
      return;
    }
    for (ci = 0; ci < in.num_components; ci++) {
      size_t stride = (size_t)in.comp_info[ci].width_in_blocks * DCTSIZE;
      int row;
      for (row = 0; row < in.comp_info[ci].v_samp_factor * DCTSIZE; row++) {
        rows[ci][row] = buffer + offset;
        offset += stride;
      }
      planes[ci] = rows[ci];
    }
  }
  {
    JDIMENSION lines = (JDIMENSION)in.max_v_samp_factor * DCTSIZE;
    while (in.output_scanline < in.output_height) {
      jpeg_read_raw_data(&in, planes, lines);
      jpeg_write_raw_data(&out, planes, lines);
    }
  }
  jpeg_finish_compress(&out);
  jpeg_destroy_compress(&out);
  jpeg_abort_decompress(&in);
  jpeg_destroy_decompress(&in);
  free(buffer);
  job->error[0] = 0;
}

static void encode_bgr(struct job *job) {
  struct jpeg_compress_struct out;
  struct failure failure;
  JSAMPROW row;
  size_t stride = (size_t)job->width * 3;

  out.err = jpeg_std_error(&failure.mgr);
  failure.mgr.error_exit = on_error;
  failure.mgr.emit_message = on_message;
  failure.message[0] = 0;
  job->output = NULL;
  job->output_length = 0;
  if (setjmp(failure.jump)) {
    snprintf(job->error, sizeof job->error, "JPEG_ENCODE: %s", failure.message);
    jpeg_destroy_compress(&out);
    free(job->output);
    job->output = NULL;
    return;
  }
  jpeg_create_compress(&out);
  jpeg_mem_dest(&out, &job->output, &job->output_length);
  out.image_width = (JDIMENSION)job->width;
  out.image_height = (JDIMENSION)job->height;
  out.input_components = 3;
  out.in_color_space = JCS_EXT_BGR;
  jpeg_set_defaults(&out);
  jpeg_set_quality(&out, job->quality, TRUE);
  jpeg_start_compress(&out, TRUE);
  while (out.next_scanline < out.image_height) {
    row = (JSAMPROW)(job->input + (size_t)out.next_scanline * stride);
    jpeg_write_scanlines(&out, &row, 1);
  }
  jpeg_finish_compress(&out);
  jpeg_destroy_compress(&out);
  job->error[0] = 0;
}

static void execute(napi_env env, void *data) {
  struct job *job = (struct job *)data;
  (void)env;
  if (job->width > 0)
    encode_bgr(job);
  else
    transcode(job);
}

static void free_output(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void complete(napi_env env, napi_status status, void *data) {
  struct job *job = (struct job *)data;
  napi_value result;
  if (status == napi_ok && job->error[0] == 0 && job->output != NULL) {
    napi_create_external_buffer(env, job->output_length, job->output, free_output, NULL, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message;
    free(job->output);
    napi_create_string_utf8(env, job->error[0] != 0 ? job->error : "JPEG work failed", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, job->deferred, result);
  }
  napi_delete_reference(env, job->input_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value queue(napi_env env, napi_value input, const void *bytes, size_t length, int32_t quality,
                        int32_t width, int32_t height) {
  napi_value promise, name;
  struct job *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  job->input = bytes;
  job->input_length = length;
  job->quality = quality;
  job->width = width;
  job->height = height;
  napi_create_reference(env, input, 1, &job->input_ref);
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, width > 0 ? "udpcam.jpegEncode" : "udpcam.jpegTranscode", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool is_buffer = false;
  void *bytes = NULL;
  size_t length = 0;
  int32_t quality = 0;

  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) {
    napi_throw_type_error(env, NULL, "transcode(jpeg: Buffer, quality: number)");
    return NULL;
  }
  napi_get_buffer_info(env, argv[0], &bytes, &length);
  if (napi_get_value_int32(env, argv[1], &quality) != napi_ok || quality < 1 || quality > 100) {
    napi_throw_range_error(env, NULL, "JPEG quality must be an integer from 1 to 100");
    return NULL;
  }
  return queue(env, argv[0], bytes, length, quality, 0, 0);
}

static napi_value start_encode(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  bool is_buffer = false;
  void *bytes = NULL;
  size_t length = 0;
  int32_t width = 0, height = 0, quality = 0;

  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_value_int32(env, argv[1], &width) != napi_ok || napi_get_value_int32(env, argv[2], &height) != napi_ok) {
    napi_throw_type_error(env, NULL, "encodeBgr(bgr: Buffer, width: number, height: number, quality: number)");
    return NULL;
  }
  napi_get_buffer_info(env, argv[0], &bytes, &length);
  if (width < 1 || height < 1 || width > 65500 || height > 65500 || (size_t)width * 3 * (size_t)height != length) {
    napi_throw_range_error(env, NULL, "encodeBgr: width * height * 3 must be the buffer's length (at most 65500 a side)");
    return NULL;
  }
  if (napi_get_value_int32(env, argv[3], &quality) != napi_ok || quality < 1 || quality > 100) {
    napi_throw_range_error(env, NULL, "JPEG quality must be an integer from 1 to 100");
    return NULL;
  }
  return queue(env, argv[0], bytes, length, quality, width, height);
}

static napi_value set_send_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t fd = -1, bytes = 0;
  int got = -1;
  socklen_t length = sizeof got;

  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &bytes) != napi_ok || fd < 0 || bytes < 1) {
    napi_throw_type_error(env, NULL, "setSendBuffer(fd: integer >= 0, bytes: integer >= 1)");
    return NULL;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0 ||
      getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &length) != 0)
    got = -1;
  napi_create_int32(env, got, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "transcode", NAPI_AUTO_LENGTH, start, NULL, &fn);
  napi_set_named_property(env, exports, "transcode", fn);
  napi_create_function(env, "encodeBgr", NAPI_AUTO_LENGTH, start_encode, NULL, &fn);
  napi_set_named_property(env, exports, "encodeBgr", fn);
  napi_create_function(env, "setSendBuffer", NAPI_AUTO_LENGTH, set_send_buffer, NULL, &fn);
  napi_set_named_property(env, exports, "setSendBuffer", fn);
  register_shared_memory(env, exports);
  register_datagram_reader(env, exports);
  return exports;
}
