#!/usr/bin/env node
// The installed `parley` command runs the compiled CLI (npm run build first).
import '../dist/cli.js';
