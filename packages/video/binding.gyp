{
  "targets": [
    {
      "target_name": "jpeg_transcode",
      "sources": ["native/jpeg_transcode.c", "native/shared_memory.c", "native/datagram_reader.c"],
      "libraries": ["-ljpeg"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
