import type { LogStage } from '@cloudsmith/client';
import { parseBuildErrors } from './buildErrors';

export interface StagedLine {
  stage: LogStage;
  text: string;
}

/** What npm prints around every failing script: it names the script, not the cause. */
const NPM_PREFIX = /^npm (?:ERR!|error)\s*/i;
const NPM_BOILERPLATE =
  /^(?:code\b|errno\b|path\b|syscall\b|command\b|signal\b|workspace\b|location\b|a complete log|lifecycle script|failed at the|this is probably|exit status|\S+@\S+ \S+: `)/i;
const ERROR_WORD =
  /\b(?:error|err!|failed|failure|fatal|exception|cannot|can't|not found|no such file|enoent|eacces|unexpected|traceback|panic|missing)\b/i;
// eslint-disable-next-line no-control-regex -- ANSI colour codes are control characters by definition
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/**
 * The first line of a failed deployment's log that says what went wrong, e.g. "Error: Cannot find module 'x'"
 * rather than the platform's "`npm run build` exited with code 1". Skips the script echo (`> node build.js`),
 * npm's boilerplate and CloudSmith's own system lines; undefined when no line looks like an error.
 */
export function firstErrorLine(lines: readonly StagedLine[]): string | undefined {
  const texts = lines.filter((l) => l.stage !== 'system').map((l) => l.text);
  // A toolchain error the diagnostics parser recognises says where, too: "Cannot find name 'x' (src/a.ts:3)".
  const known = parseBuildErrors(texts).find((e) => e.severity === 'error');
  if (known) return clip(`${known.message} (${known.file.split('/').pop() ?? known.file}:${known.line})`);
  for (const text of texts) {
    for (const raw of text.split(/\r?\n/)) {
      const line = meaningful(raw);
      if (line && ERROR_WORD.test(line)) return clip(line);
    }
  }
  return undefined;
}

function clip(line: string): string {
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function meaningful(raw: string): string | undefined {
  const line = raw.replace(ANSI, '').trim();
  if (!line || line.startsWith('> ')) return undefined;
  if (NPM_PREFIX.test(line)) {
    const rest = line.replace(NPM_PREFIX, '').trim();
    return rest && !NPM_BOILERPLATE.test(rest) ? rest : undefined;
  }
  return line;
}

/** The failure as a user reads it: the cause first, then what the platform saw (the exit code), once each. */
export function failureSummary(error: string | null | undefined, cause: string | undefined): string {
  const platform = error?.trim() || undefined;
  if (cause && platform) return platform.includes(cause) ? platform : `${cause} (${platform})`;
  return cause ?? platform ?? 'unknown reason';
}
