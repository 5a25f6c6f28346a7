#!/usr/bin/env node
// The committed, executable entry point of the `suiteprobe` bin: tsc's output (dist/) is not executable.
import "../dist/src/cli.js";
