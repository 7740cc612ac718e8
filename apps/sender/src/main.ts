#!/usr/bin/env node
console.log("udpcam sender: usage: pnpm --filter sender start -- [options]");
