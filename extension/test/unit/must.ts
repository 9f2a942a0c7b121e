import assert from 'node:assert/strict';

/** The value, asserting it is there: a test's way of saying "this cannot be undefined here" without `!`. */
export function must<T>(value: T | null | undefined, what = 'value'): T {
  assert.ok(value !== undefined && value !== null, `expected a ${what}`);
  return value;
}
