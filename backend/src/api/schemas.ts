import { z } from 'zod';
import { isValidRef, isValidRepoFullName } from '../domain/repoNames';

/** Request bodies and query strings, validated once at the edge. Anything that reaches a service has passed these. */

export const repoName = z
  .string()
  .max(140)
  .refine(isValidRepoFullName, 'repo must be "owner/name" using GitHub\'s characters (letters, digits, "-", "_", ".")');

export const gitRef = z.string().refine(isValidRef, 'ref is not a valid git branch, tag or commit name');

/** A path inside the repo: relative, no "..", no shell metacharacters. */
const repoPath = z
  .string()
  .max(200)
  .refine(
    (p) => /^[A-Za-z0-9._\-/]*$/.test(p) && !p.split('/').includes('..') && !p.startsWith('/'),
    'must be a relative path inside the repository using letters, digits, ".", "_", "-" and "/"',
  );

/** Commands are the user's own build steps for their own code; bounded and single-line. */
const command = z
  .string()
  .min(1)
  .max(1000)
  .refine((c) => !/[\r\n\0]/.test(c), 'must be a single line');

export const envKey = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'env var names are letters, digits and "_", not starting with a digit');
const RESERVED_ENV = new Set(['PORT', 'PATH', 'HOME', 'NODE_OPTIONS']);
/**
 * A process environment is NUL-terminated C strings in UTF-8: a NUL, or a lone UTF-16 surrogate that has no UTF-8
 * form, can never reach the app, so such a value is refused here rather than breaking every later build.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const envValue = z
  .string()
  .max(32 * 1024)
  .refine((v) => !v.includes('\0'), 'env values cannot contain NUL (\\0): a process environment cannot carry it')
  .refine((v) => !LONE_SURROGATE.test(v), 'env values must be valid Unicode text (no unpaired surrogates)');
export const envMap = z
  .record(envKey, envValue)
  .refine((env) => Object.keys(env).length <= 200, 'at most 200 env vars')
  .refine(
    (env) => Object.keys(env).every((k) => !RESERVED_ENV.has(k)),
    `the platform sets ${[...RESERVED_ENV].join(', ')} itself`,
  );

export const deployBody = z
  .object({
    repo: repoName,
    ref: gitRef.optional(),
    commitSha: z
      .string()
      .regex(/^[0-9a-f]{40}$/, 'commitSha must be a full 40-hex commit sha')
      .optional(),
    rootDir: repoPath.optional(),
    env: envMap.optional(),
    installCommand: command.optional(),
    buildCommand: command.optional(),
    startCommand: command.optional(),
    outputDir: repoPath.optional(),
    healthPath: z
      .string()
      .max(200)
      .regex(/^\/[A-Za-z0-9._~\-/?=&%]*$/, 'healthPath must be an absolute URL path')
      .optional(),
    dockerfile: z.boolean().optional(),
  })
  .strict();
export type DeployBody = z.infer<typeof deployBody>;

export const rollbackBody = z.object({ deploymentId: z.uuid() }).strict();
export const envBody = z.object({ env: envMap }).strict();

export const deploymentId = z.uuid('deployment ids are UUIDs');
export const appName = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'app names are DNS labels');

export const listQuery = z.object({
  repo: repoName.optional(),
  app: appName.optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export const sinceQuery = z.object({ since: z.coerce.number().int().min(0).optional() });
