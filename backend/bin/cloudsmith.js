#!/usr/bin/env node
// The `cloudsmith` command (npx runs it through the node_modules/.bin/cloudsmith symlink, so the CLI module
// cannot tell from argv that it is the command: this file calls main() itself). A client tool, run from the
// TypeScript through tsx so a fresh clone needs no build step before `npx cloudsmith`.
require('tsx/cjs');
require('../src/cli/main.ts').main();
