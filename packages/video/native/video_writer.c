/*
 * MPEG-4 Part 2 (DIVX, XVID, FMP4, ...) recordings written by libavcodec and libavformat directly, with the
 * settings OpenCV 4.6's FFmpeg VideoWriter gives them (bit rate 2 * fps * width * height, qmin 3, a key frame
 * every 12, yuv420p, the fourcc as the stream's tag, one thread): fed the same yuv420p, the file is byte for
 * byte OpenCV's. What differs is the way there. OpenCV converts bgr24 with swscale (0.66 ms a 640x480 frame
 * here, more than the encoder's own 0.52 ms) into one picture the encoder must then copy; this converts with
 * libyuv's RGB24ToI420 (0.15 ms; libyuv's RGB24 is B, G, R in memory) into a pooled, reference-counted frame
 * the encoder keeps without a copy.
 *
 * Only the writer of packages/video's encoder process loads this addon (src/record/native-writer.ts).
 *
 * openVideoWriter(path, fourcc, fps, width, height): an external handle, or null when the container guessed
 * from `path` does not take `fourcc` as MPEG-4 Part 2 (OpenCV writes those). Odd sizes lose their last
 * column or row, as OpenCV's do. Throws Error("CODEC_UNAVAILABLE: <what failed>: <FFmpeg's reason>") when the
 * encoder or the file cannot be opened.
 *
 * writeVideoFrame(handle, bgr: Uint8Array, stride): encodes one frame (at least height rows of `stride` bytes,
 * width * 3 of them pixels) and flushes what the muxer has to the file, so that a frame written is in the file
 * when this returns (the kernel's, should the process be killed next). Throws Error("WRITE_FAILED: ...").
 *
 * closeVideoWriter(handle): drains the encoder, writes the trailer (the AVI index) and closes the file.
 * Safe to call twice; a handle collected unclosed is freed without a trailer, as a killed process leaves it.
 */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libyuv/convert.h>
#include <math.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>

/* Rows and planes aligned for the encoder's SIMD, and slack after them for its over-reads. */
#define PLANE_ALIGN 32
#define PADDING 64
#define KEY_FRAME_INTERVAL 12
#define OPENCV_QMIN 3

struct writer {
  AVFormatContext *format;
  AVCodecContext *codec;
  AVStream *stream;
  AVBufferPool *pool;
  AVPacket *packet;
  int width; /* even, as encoded */
  int height;
  int64_t next_pts;
  int header_written;
  int closed;
};

static void free_writer(struct writer *w) {
  if (w->format != NULL) {
    if (w->format->pb != NULL) avio_closep(&w->format->pb);
    avformat_free_context(w->format);
    w->format = NULL;
  }
  avcodec_free_context(&w->codec);
  av_packet_free(&w->packet);
  av_buffer_pool_uninit(&w->pool);
}

static void throw_av(napi_env env, const char *code, const char *what, int error) {
  char reason[AV_ERROR_MAX_STRING_SIZE] = "";
  char message[512];
  if (error < 0) av_strerror(error, reason, sizeof reason);
  snprintf(message, sizeof message, "%s: %s%s%s", code, what, error < 0 ? ": " : "", reason);
  napi_throw_error(env, NULL, message);
}

/* OpenCV's time base: fps as a fraction with a power of ten below, to 0.001. */
static AVRational time_base_for(double fps) {
  int rate = (int)(fps + 0.5), base = 1;
  while (fabs((double)rate / base - fps) > 0.001 && base < 1000000) {
    base *= 10;
    rate = (int)(fps * base + 0.5);
  }
  return (AVRational){base, rate};
}

/* Hands every packet the encoder has to the muxer. */
static int drain(struct writer *w) {
  int status;
  while ((status = avcodec_receive_packet(w->codec, w->packet)) == 0) {
    av_packet_rescale_ts(w->packet, w->codec->time_base, w->stream->time_base);
    w->packet->stream_index = w->stream->index;
    status = av_write_frame(w->format, w->packet);
    av_packet_unref(w->packet);
    if (status < 0) return status;
  }
  return status == AVERROR(EAGAIN) || status == AVERROR_EOF ? 0 : status;
}

static int finish(struct writer *w) {
  int status = 0;
  if (w->closed) return 0;
  w->closed = 1;
  if (w->header_written) {
    status = avcodec_send_frame(w->codec, NULL);
    if (status >= 0) status = drain(w);
    int trailer = av_write_trailer(w->format);
    if (status >= 0) status = trailer;
  }
  free_writer(w);
  return status;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct writer *w = data;
  if (!w->closed) free_writer(w);
  av_free(w);
}

static struct writer *unwrap(napi_env env, napi_value value) {
  struct writer *w = NULL;
  if (napi_get_value_external(env, value, (void **)&w) != napi_ok || w == NULL) {
    napi_throw_type_error(env, NULL, "expected a video writer handle");
    return NULL;
  }
  return w;
}

static int open_writer(struct writer *w, const char *path, uint32_t tag, double fps, int width, int height,
                       const char **failed) {
  int status;
  const AVOutputFormat *format = av_guess_format(NULL, path, NULL);
  *failed = "no container for that file name";
  if (format == NULL) return AVERROR_MUXER_NOT_FOUND;
  const struct AVCodecTag *const *tags = format->codec_tag;
  if (tags == NULL || av_codec_get_id(tags, tag) != AV_CODEC_ID_MPEG4) return 1;
  const AVCodec *encoder = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  *failed = "this FFmpeg has no MPEG-4 encoder";
  if (encoder == NULL) return AVERROR_ENCODER_NOT_FOUND;

  *failed = "out of memory";
  if ((status = avformat_alloc_output_context2(&w->format, format, NULL, path)) < 0) return status;
  w->format->max_delay = (int)(0.7 * AV_TIME_BASE);
  w->stream = avformat_new_stream(w->format, NULL);
  w->codec = avcodec_alloc_context3(encoder);
  w->packet = av_packet_alloc();
  if (w->stream == NULL || w->codec == NULL || w->packet == NULL) return AVERROR(ENOMEM);

  AVCodecContext *c = w->codec;
  double bitrate = fmin(fps * width * height, (double)INT_MAX / 2);
  int64_t rate = (int64_t)(bitrate + 0.5);
  rate = FFMIN(rate + (int64_t)(rate / 2) + (int64_t)(bitrate / 2), INT_MAX);
  c->codec_tag = tag;
  c->bit_rate = rate;
  c->bit_rate_tolerance = (int)rate;
  c->qmin = OPENCV_QMIN;
  c->width = w->width = width;
  c->height = w->height = height;
  c->time_base = time_base_for(fps);
  c->gop_size = KEY_FRAME_INTERVAL;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->thread_count = 1;
  if (format->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  w->stream->avg_frame_rate = av_inv_q(c->time_base);
  w->stream->time_base = c->time_base;
  *failed = "cannot open the MPEG-4 encoder";
  if ((status = avcodec_open2(c, encoder, NULL)) < 0) return status;
  *failed = "cannot describe the stream";
  if ((status = avcodec_parameters_from_context(w->stream->codecpar, c)) < 0) return status;

  int frame_bytes = av_image_get_buffer_size(AV_PIX_FMT_YUV420P, width, height, PLANE_ALIGN);
  w->pool = av_buffer_pool_init(frame_bytes + PADDING, NULL);
  *failed = "out of memory";
  if (frame_bytes < 0 || w->pool == NULL) return AVERROR(ENOMEM);

  *failed = "cannot create the file";
  if (!(format->flags & AVFMT_NOFILE) && (status = avio_open(&w->format->pb, path, AVIO_FLAG_WRITE)) < 0)
    return status;
  *failed = "cannot write the file's header";
  if ((status = avformat_write_header(w->format, NULL)) < 0) return status;
  w->header_written = 1;
  avio_flush(w->format->pb);
  return 0;
}

static napi_value open_video_writer(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result;
  char path[4096], fourcc[8];
  size_t path_length = 0, fourcc_length = 0;
  double fps = 0;
  int32_t width = 0, height = 0;

  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_length) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], fourcc, sizeof fourcc, &fourcc_length) != napi_ok ||
      napi_get_value_double(env, argv[2], &fps) != napi_ok || napi_get_value_int32(env, argv[3], &width) != napi_ok ||
      napi_get_value_int32(env, argv[4], &height) != napi_ok || path_length >= sizeof path - 1 || fourcc_length != 4 ||
      !(fps > 0) || width < 2 || height < 2) {
    napi_throw_type_error(env, NULL,
                          "openVideoWriter(path, fourcc: 4 characters, fps > 0, width >= 2, height >= 2)");
    return NULL;
  }
  struct writer *w = av_mallocz(sizeof *w);
  if (w == NULL) {
    throw_av(env, "CODEC_UNAVAILABLE", "out of memory", AVERROR(ENOMEM));
    return NULL;
  }
  const char *failed = "";
  uint32_t tag = MKTAG(fourcc[0], fourcc[1], fourcc[2], fourcc[3]);
  int status = open_writer(w, path, tag, fps, width & ~1, height & ~1, &failed);
  if (status != 0) {
    free_writer(w);
    av_free(w);
    if (status > 0) {
      napi_get_null(env, &result);
      return result;
    }
    throw_av(env, "CODEC_UNAVAILABLE", failed, status);
    return NULL;
  }
  if (napi_create_external(env, w, finalize, NULL, &result) != napi_ok) {
    finish(w);
    av_free(w);
    napi_throw_error(env, NULL, "CODEC_UNAVAILABLE: no external values in this runtime");
    return NULL;
  }
  return result;
}

static napi_value write_video_frame(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  int32_t stride = 0;

  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct writer *w = argc < 3 ? NULL : unwrap(env, argv[0]);
  if (w == NULL) return NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array || napi_get_value_int32(env, argv[2], &stride) != napi_ok ||
      stride < w->width * 3 || length < (size_t)stride * (w->height - 1) + (size_t)w->width * 3) {
    napi_throw_type_error(env, NULL, "writeVideoFrame(handle, bgr: Uint8Array holding the frame, stride)");
    return NULL;
  }
  if (w->closed) {
    napi_throw_error(env, NULL, "WRITE_FAILED: the recording is closed");
    return NULL;
  }

  AVFrame *frame = av_frame_alloc();
  int status = AVERROR(ENOMEM);
  if (frame == NULL) goto failed;
  frame->format = AV_PIX_FMT_YUV420P;
  frame->width = w->width;
  frame->height = w->height;
  /* A buffer of the pool: back in it when the encoder lets go of the frame, so the encoder keeps a reference
     rather than copying the picture, and no frame costs an allocation (or the page faults of a fresh one). */
  frame->buf[0] = av_buffer_pool_get(w->pool);
  if (frame->buf[0] == NULL) goto failed;
  status = av_image_fill_arrays(frame->data, frame->linesize, frame->buf[0]->data, AV_PIX_FMT_YUV420P, w->width,
                                w->height, PLANE_ALIGN);
  if (status < 0) goto failed;
  if (RGB24ToI420(data, stride, frame->data[0], frame->linesize[0], frame->data[1], frame->linesize[1],
                  frame->data[2], frame->linesize[2], w->width, w->height) != 0) {
    status = AVERROR(EINVAL);
    goto failed;
  }
  frame->pts = w->next_pts++;
  status = avcodec_send_frame(w->codec, frame);
  av_frame_free(&frame);
  if (status >= 0) status = drain(w);
  if (status >= 0) {
    avio_flush(w->format->pb);
    status = w->format->pb->error;
  }
  if (status >= 0) return NULL;
failed:
  av_frame_free(&frame);
  throw_av(env, "WRITE_FAILED", "encoding a frame", status);
  return NULL;
}

static napi_value close_video_writer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct writer *w = argc < 1 ? NULL : unwrap(env, argv[0]);
  if (w == NULL) return NULL;
  int status = finish(w);
  if (status < 0) throw_av(env, "WRITE_FAILED", "finishing the recording", status);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "openVideoWriter", NAPI_AUTO_LENGTH, open_video_writer, NULL, &fn);
  napi_set_named_property(env, exports, "openVideoWriter", fn);
  napi_create_function(env, "writeVideoFrame", NAPI_AUTO_LENGTH, write_video_frame, NULL, &fn);
  napi_set_named_property(env, exports, "writeVideoFrame", fn);
  napi_create_function(env, "closeVideoWriter", NAPI_AUTO_LENGTH, close_video_writer, NULL, &fn);
  napi_set_named_property(env, exports, "closeVideoWriter", fn);
  return exports;
}
