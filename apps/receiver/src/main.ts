#!/usr/bin/env node
console.log("udpcam receiver: usage: pnpm --filter receiver start -- [options]");
