// Runs terraform.test.cjs with mocha's API so the summary line has the exact shape scripts/test.sh greps for.
// tsx lets the test load backend/src/adapters/store/dynamodb/tables.ts, the DynamoDB schema the tables must match.
require('tsx/cjs');
const path = require('node:path');
const Mocha = require('mocha');

const mocha = new Mocha({ reporter: 'spec', timeout: 60_000 });
mocha.addFile(path.join(__dirname, 'terraform.test.cjs'));
mocha.addFile(path.join(__dirname, 'tools.test.cjs'));
let passed = 0;
let failed = 0;
mocha
  .run()
  .on('pass', () => passed++)
  .on('fail', () => failed++)
  .on('end', () => {
    console.log(`terraform: ${passed} passed, ${failed} failed`);
    process.exitCode = failed > 0 ? 1 : 0;
  });
