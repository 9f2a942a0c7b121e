import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { streamLogs } from '@cloudsmith/client';
import type { LogLineMessage, LogStage } from '@cloudsmith/client';
import { LogPrinter } from '../../src/model/logFormat';
import { must } from './must';

const ID = '00000000-0000-4000-8000-0000000000aa';
const STAGES: LogStage[] = [
  'system',
  'fetch',
  'fetch',
  'build',
  'build',
  'build',
  'build',
  'deploy',
  'deploy',
  'system',
];
const line = (seq: number): LogLineMessage => ({
  type: 'log',
  seq,
  ts: '',
  stage: STAGES[seq - 1],
  text: `step ${seq}`,
});

describe('extension: log reassembly into the output channel', () => {
  it('prints each line once with one header per stage across two dropped connections', async () => {
    let connections = 0;
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => {
      connections++;
      const since = Number(new URL(must(req.url), 'http://x').searchParams.get('since'));
      // Each connection replays from a bit before `since` and then dies after three new lines, until the last.
      const stopAt = connections < 3 ? since + 3 : STAGES.length;
      for (let s = Math.max(1, since - 1); s <= stopAt; s++) ws.send(JSON.stringify(line(s)));
      if (connections < 3)
        setTimeout(() => {
          ws.terminate();
        }, 10);
      else {
        ws.send(JSON.stringify({ type: 'end', status: 'live', url: 'http://alice-site.localhost:8080' }));
        ws.close(1000);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const printer = new LogPrinter(ID, 'alice/site');
    const out: string[] = [...printer.header()];
    try {
      const result = await streamLogs({
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        token: () => 't',
        deploymentId: ID,
        backoff: { initialMs: 5, maxMs: 20 },
        onMessage: (m) => out.push(...printer.lines(m)),
        onReconnect: (i) => out.push(...printer.reconnecting(i.since, i.reason, i.attempt)),
      });
      assert.equal(result.status, 'live');
    } finally {
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
    }
    const steps = out.filter((l) => l.startsWith('  step ')).map((l) => Number(l.slice(7)));
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(
      out.filter((l) => l.startsWith('── ')),
      ['── CloudSmith ──', '── Fetch source ──', '── Build ──', '── Deploy ──', '── CloudSmith ──'],
    );
    // One line per interruption (each drop here is followed by lines, so the attempt count starts over).
    assert.equal(out.filter((l) => l.includes('will resume after line')).length, 2);
    assert.equal(out[out.length - 1], '✔ live at http://alice-site.localhost:8080');
  });
});
