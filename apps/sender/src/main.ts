#!/usr/bin/env node
import { runConfiguredApp } from "@udpcam/appkit";
import { startSender } from "./app.js";
import { parseSenderConfig } from "./config.js";

runConfiguredApp({ name: "udpcam sender", component: "sender", parse: parseSenderConfig, start: startSender });
