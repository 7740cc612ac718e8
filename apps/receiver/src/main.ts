#!/usr/bin/env node
import { runConfiguredApp } from "@udpcam/appkit";
import { startReceiver } from "./app.js";
import { parseReceiverConfig } from "./config.js";

runConfiguredApp({ name: "udpcam receiver", component: "receiver", parse: parseReceiverConfig, start: startReceiver });
