#!/usr/bin/env node
// The `cloudsmith` command: runs the TypeScript CLI through tsx, so there is no build step to forget.
require('tsx/cjs');
require('../src/cli/main.ts');
