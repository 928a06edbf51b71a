import { pino, type Logger } from 'pino';

/** Structured logs; secrets are censored by path here and by key in `domain/redact.ts`. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
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
    destination ?? process.stdout,
  );
}

export function redactQueryToken(url: string): string {
  return url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]');
}
