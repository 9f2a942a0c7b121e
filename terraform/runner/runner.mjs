// Entrypoint of the runner image: runs a tarball artifact on ECS. EcsRuntime registers a task definition whose
// environment names the artifact and whose command is the build plan's start argv. The artifact is either baked into
// the app's own image (CLOUDSMITH_ARTIFACT_FILE: the runner image plus one layer, pushed to ECR; the task role then
// needs no S3 access at all) or downloaded from S3 with the task role (CLOUDSMITH_ARTIFACT_BUCKET/KEY). Either way its
// sha256 (CLOUDSMITH_ARTIFACT_SHA256) is verified before it is unpacked and the start command runs.
// The image is built with `npm run build:runner` (esbuild bundles this file and its two dependencies): the base image
// needs nothing but Node.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
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
  const baked = process.env.CLOUDSMITH_ARTIFACT_FILE;
  const expected = required('CLOUDSMITH_ARTIFACT_SHA256');
  const releaseDir = resolve(process.env.CLOUDSMITH_RELEASE_DIR || '/srv/release');
  const argv = process.argv.slice(2);
  if (argv.length === 0) throw new Error('runner: no start command (the task definition command is the plan start argv)');

  await rm(releaseDir, { recursive: true, force: true });
  await mkdir(releaseDir, { recursive: true });
  const tarball = join(tmpdir(), `cloudsmith-artifact-${process.pid}.tar.gz`);
  let source;
  let s3;
  let key = baked;
  if (baked) {
    source = createReadStream(baked);
  } else {
    const bucket = required('CLOUDSMITH_ARTIFACT_BUCKET');
    key = required('CLOUDSMITH_ARTIFACT_KEY');
    // AWS_ENDPOINT_URL (SDK standard) points it at an emulator in tests; on Fargate the task role signs the request.
    s3 = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) });
    source = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body;
  }
  const hash = createHash('sha256');
  await pipeline(
    source,
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
  s3?.destroy();

  const cwd = resolve(releaseDir, process.env.CLOUDSMITH_WORKDIR || '.');
  if (!cwd.startsWith(releaseDir)) throw new Error('runner: CLOUDSMITH_WORKDIR leaves the release directory');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('CLOUDSMITH_ARTIFACT_')),
  );
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
