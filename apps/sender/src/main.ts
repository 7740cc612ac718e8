#!/usr/bin/env node
import { runConfiguredApp } from "@udpcam/appkit";
import { useNativeOpencvOnly } from "@udpcam/video";
import { startSender } from "./app.js";
import { parseSenderConfig } from "./config.js";

// The sender needs OpenCV's captures, JPEG encoder and resize, all in the compiled addon: not the package's build
// helper and drawing helpers, which cost some 18 MB and 0.1 s of CPU at start (docs/benchmarks/efficiency.md).
useNativeOpencvOnly();
runConfiguredApp({ name: "udpcam sender", component: "sender", parse: parseSenderConfig, start: startSender });
