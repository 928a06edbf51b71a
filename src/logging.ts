import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

/** How log lines are written: JSON lines for machines, coloured lines for a person. */
export type LogFormat = 'json' | 'pretty';

/**
 * `auto` is pretty when the destination is a terminal and JSON otherwise: a person at a terminal
 * reads lines, a file or a log collector wants one JSON object per line.
 */
export function resolveLogFormat(
  format: 'auto' | LogFormat,
  destination: { isTTY?: boolean } = process.stdout,
): LogFormat {
  if (format !== 'auto') return format;
  return destination.isTTY === true ? 'pretty' : 'json';
}

/** Structured logs; secrets are censored by path here and by key in `domain/redact.ts`. */
export function createLogger(
  level: string,
  destination?: NodeJS.WritableStream,
  format: LogFormat = 'json',
): Logger {
  const out = destination ?? process.stdout;
  const stream =
    format === 'pretty'
      ? pinoPretty({
          // Synchronous like pino's own stdout destination: lines are not lost on process.exit.
          sync: true,
          destination: out,
          colorize: (out as { isTTY?: boolean }).isTTY === true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        })
      : out;
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'config.cookie',
          'config.proxy',
          '*.cookie',
          '*.token',
          '*.password',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { method?: string; url?: string }) => ({
          method: req.method,
          url: redactQueryToken(req.url ?? ''),
        }),
      },
    },
    stream,
  );
}

export function redactQueryToken(url: string): string {
  return url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]');
}
