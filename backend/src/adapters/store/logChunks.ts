/**
 * Both stores keep a deployment's log as chunks of consecutive lines (one row or item per chunk, not per line):
 * a build printing a million lines costs thousands of writes, not a million, and never holds the API's event loop.
 */

/** Lines per chunk, and bytes per chunk: keeps a DynamoDB item far below its 400 KB limit even with long lines. */
export const LINES_PER_CHUNK = 200;
export const CHUNK_BYTES = 200_000;
/** Counted per line on top of its text: ts, stage and JSON punctuation. */
export const LINE_OVERHEAD_BYTES = 64;

/** Splits lines into chunk-sized groups by count and by bytes, keeping their order. */
export function chunkLines<T extends { text: string }>(lines: readonly T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line.text) + LINE_OVERHEAD_BYTES;
    if (current.length > 0 && (current.length >= LINES_PER_CHUNK || bytes + size > CHUNK_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
