import { z } from 'zod';
import type { RunPlan } from '../../domain/deployment';

/**
 * The run plan travels with an artifact as S3 object metadata, so whoever receives the S3 upload event (the
 * artifact-uploaded Lambda) knows how to run it without asking the platform. Both writers use this encoding: the
 * S3 artifact store (local and Docker builders) and jenkins/steps/upload.sh (the Jenkins builder hands it over as
 * the RUN_PLAN build parameter). Base64 of JSON: S3 user metadata is ASCII only and travels in HTTP headers.
 */
export const PLAN_METADATA = 'cloudsmith-plan';

const runPlan = z
  .object({
    kind: z.enum(['node', 'static', 'next']),
    start: z.array(z.string()).min(1),
    workdir: z.string(),
    spaFallback: z.boolean().optional(),
    healthPath: z.string(),
    port: z.number().int().positive().optional(),
  })
  .strict();

export function encodePlan(plan: RunPlan): string {
  return Buffer.from(JSON.stringify(plan), 'utf8').toString('base64');
}

/** The plan an object carries, or undefined when the value is missing or is not a plan (it came from outside). */
export function decodePlan(raw: string | undefined): RunPlan | undefined {
  if (!raw) return undefined;
  try {
    const parsed = runPlan.safeParse(JSON.parse(Buffer.from(raw, 'base64').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
