{
  "targets": [
    {
      "target_name": "jpeg_transcode",
      "sources": ["native/jpeg_transcode.c", "native/shared_memory.c", "native/datagram_reader.c"],
      "libraries": ["-ljpeg"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "video_writer",
      "sources": ["native/video_writer.c"],
      "libraries": ["<!@(pkg-config --libs libavformat libavcodec libavutil)", "-lyuv"],
      "cflags": ["-O2", "-Wall", "-Wextra", "<!@(pkg-config --cflags libavformat libavcodec libavutil)"]
    }
  ]
}
