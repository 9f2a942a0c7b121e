/** Platform diagnostics (not deployment logs). One JSON line per entry so distributed services can be aggregated. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function consoleLogger(service: string, quiet = process.env.CLOUDSMITH_QUIET === '1'): Logger {
  const write = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (quiet && level === 'info') return;
    process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), level, service, message, ...fields })}\n`);
  };
  return {
    info: (m, f) => {
      write('info', m, f);
    },
    warn: (m, f) => {
      write('warn', m, f);
    },
    error: (m, f) => {
      write('error', m, f);
    },
  };
}
