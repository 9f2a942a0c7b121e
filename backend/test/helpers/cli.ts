import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { World } from './world';

const BIN = join(__dirname, '..', '..', 'bin', 'cloudsmith.js');

/** Runs the `cloudsmith` CLI as alice against the world's platform; resolves with its exit code and output. */
export function cli(world: World, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, CLOUDSMITH_API_URL: world.url, GITHUB_TOKEN: world.alice.token },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
