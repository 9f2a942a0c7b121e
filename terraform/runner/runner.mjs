// Entrypoint of the runner image: runs a tarball artifact on Fargate. EcsRuntime registers a task definition whose
// environment names the artifact (CLOUDSMITH_ARTIFACT_BUCKET/KEY/SHA256, CLOUDSMITH_WORKDIR) and whose command is the
// build plan's start argv. Downloads with the task role, verifies the sha256, unpacks, then execs the start command.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { x as extract } from 'tar';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`runner: ${name} is not set`);
  return value;
}

async function main() {
  const bucket = required('CLOUDSMITH_ARTIFACT_BUCKET');
  const key = required('CLOUDSMITH_ARTIFACT_KEY');
  const expected = required('CLOUDSMITH_ARTIFACT_SHA256');
  const releaseDir = resolve(process.env.CLOUDSMITH_RELEASE_DIR || '/srv/release');
  const argv = process.argv.slice(2);
  if (argv.length === 0) throw new Error('runner: no start command (the task definition command is the plan start argv)');

  await rm(releaseDir, { recursive: true, force: true });
  await mkdir(releaseDir, { recursive: true });
  const tarball = join(tmpdir(), `cloudsmith-artifact-${process.pid}.tar.gz`);
  // AWS_ENDPOINT_URL (SDK standard) points it at an emulator in tests; on Fargate the task role signs the request.
  const s3 = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) });
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  await pipeline(
    res.Body,
    new Transform({
      transform(chunk, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    }),
    createWriteStream(tarball),
  );
  const actual = hash.digest('hex');
  if (actual !== expected) throw new Error(`runner: artifact ${key} is corrupt: sha256 ${actual}, expected ${expected}`);
  // tar strips absolute paths and refuses entries that climb out with `..`.
  await extract({ file: tarball, cwd: releaseDir, strict: true });
  await rm(tarball, { force: true });
  s3.destroy();

  const cwd = resolve(releaseDir, process.env.CLOUDSMITH_WORKDIR || '.');
  if (!cwd.startsWith(releaseDir)) throw new Error('runner: CLOUDSMITH_WORKDIR leaves the release directory');
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('CLOUDSMITH_ARTIFACT_')) delete env[name];
  const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: 'inherit' });
  // ECS stops tasks with SIGTERM; the app gets it, and the runner exits with the app.
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
  child.on('error', (err) => {
    console.error(`runner: cannot start ${argv[0]}: ${err.message}`);
    process.exit(127);
  });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
