import type { Response } from 'express';

const PAGE = 1000;

/**
 * Writes a stored log as JSON lines, page by page after `since`: a client that reads slowly holds one page in the
 * platform's memory, not the whole log.
 */
export async function sendNdjsonPages<L extends { seq: number }>(
  res: Response,
  since: number,
  readPage: (after: number, limit: number) => Promise<L[]>,
  view: (line: L) => object,
): Promise<void> {
  res.type('application/x-ndjson');
  for (let after = since; ;) {
    const page = await readPage(after, PAGE);
    const chunk = page.map((line) => `${JSON.stringify(view(line))}\n`).join('');
    if (!res.write(chunk)) await drainedOrClosed(res);
    if (res.destroyed) return;
    if (page.length < PAGE) break;
    after = page[page.length - 1].seq;
  }
  res.end();
}

/** Resolves when a paused response can take more, or is gone; leaves no listener behind either way. */
function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
