import { z } from 'zod';

/** A path inside the repo (or inside rootDir): relative, without `..`. */
export const relativePath = z
  .string()
  .max(300)
  .refine((p) => !p.startsWith('/') && !p.startsWith('\\') && !/^[a-zA-Z]:/.test(p), 'must be a relative path')
  .refine((p) => !p.split(/[\\/]+/).includes('..'), 'must not contain ".."')
  .refine((p) => !p.includes('\0'), 'must not contain NUL');

const command = z.string().trim().min(1).max(2000);

/** `cloudsmith.json` at the repo root (or in rootDir): the same keys as a deployment's overrides. */
export const cloudsmithJsonSchema = z
  .object({
    rootDir: relativePath.optional(),
    installCommand: command.optional(),
    buildCommand: command.optional(),
    startCommand: command.optional(),
    outputDir: relativePath.optional(),
    healthPath: z.string().startsWith('/').max(300).optional(),
    dockerfile: z.boolean().optional(),
  })
  .strict();

export type CloudsmithJson = z.infer<typeof cloudsmithJsonSchema>;

/** Only the package.json fields detection reads; everything else is ignored. */
export const packageJsonSchema = z.object({
  main: z.string().optional(),
  packageManager: z.string().optional(),
  engines: z.object({ node: z.string().optional() }).optional(),
  scripts: z.record(z.string(), z.string()).optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  devDependencies: z.record(z.string(), z.string()).optional(),
});

export type PackageJson = z.infer<typeof packageJsonSchema>;
