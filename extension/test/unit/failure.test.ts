import assert from 'node:assert/strict';
import { failureSummary, firstErrorLine } from '../../src/model/failure';
import { must } from './must';

describe('extension: the first real error line of a failed deployment', () => {
  it('skips the script echo, npm boilerplate and system lines', () => {
    const lines = [
      { stage: 'system' as const, text: 'Build failed: `npm run build` exited with code 2' },
      { stage: 'build' as const, text: '> failing-build@1.0.0 build\n> node build.js' },
      { stage: 'build' as const, text: 'compiling...' },
      { stage: 'build' as const, text: 'BUILD_ERROR_MARKER: the build failed on purpose' },
      { stage: 'build' as const, text: 'npm error code 2\nnpm error path /app\nnpm error command failed' },
    ];
    assert.equal(firstErrorLine(lines), 'BUILD_ERROR_MARKER: the build failed on purpose');
  });

  it("keeps npm's own cause (a missing script) and strips colour codes", () => {
    assert.equal(
      firstErrorLine([{ stage: 'build', text: 'npm error Missing script: "build"\nnpm error A complete log ...' }]),
      'Missing script: "build" (package.json:1)',
    );
    assert.equal(
      firstErrorLine([{ stage: 'build', text: "\u001b[31mError: Cannot find module 'vite'\u001b[39m" }]),
      "Error: Cannot find module 'vite'",
    );
  });

  it('returns undefined when no line reads like an error, and cuts very long lines', () => {
    assert.equal(firstErrorLine([{ stage: 'build', text: 'compiling...\ndone' }]), undefined);
    const long = must(firstErrorLine([{ stage: 'build', text: `error: ${'x'.repeat(400)}` }]));
    assert.equal(long.length, 200);
  });

  it('says the cause first and what the platform saw second, once each', () => {
    assert.equal(
      failureSummary('`npm run build` exited with code 2', 'BUILD_ERROR_MARKER: oops'),
      'BUILD_ERROR_MARKER: oops (`npm run build` exited with code 2)',
    );
    assert.equal(failureSummary('health check failed: boom', 'boom'), 'health check failed: boom');
    assert.equal(failureSummary(null, undefined), 'unknown reason');
  });
});
