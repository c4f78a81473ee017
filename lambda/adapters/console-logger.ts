/** A JSON-lines logger on stderr for the local server. Never given request bodies or keys. */
import type { Logger } from '../core/ports';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export function consoleLogger(level: string = 'info'): Logger {
  const min = Math.max(0, LEVELS.indexOf(level as (typeof LEVELS)[number]));
  const at = (l: (typeof LEVELS)[number]) => (message: string, data?: Record<string, unknown>) => {
    if (LEVELS.indexOf(l) < min) return;
    process.stderr.write(JSON.stringify({ level: l, time: new Date().toISOString(), message, ...data }) + '\n');
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
