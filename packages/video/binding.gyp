{
  "targets": [
    {
      "target_name": "jpeg_transcode",
      "sources": ["native/jpeg_transcode.c"],
      "libraries": ["-ljpeg"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
