/** `--name value` and `--name=value` flags; every value is a string until the scenario reads it. */
export class Flags {
  private readonly values = new Map<string, string>();

  constructor(argv: readonly string[]) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
      const eq = arg.indexOf('=');
      if (eq > 0) this.values.set(arg.slice(2, eq), arg.slice(eq + 1));
      else this.values.set(arg.slice(2), argv[++i] ?? '');
    }
  }

  int(name: string, fallback: number): number {
    const raw = this.values.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`--${name} must be a positive integer`);
    return value;
  }

  choice<T extends string>(name: string, options: readonly T[], fallback: T): T {
    const raw = this.values.get(name) ?? fallback;
    if (!(options as readonly string[]).includes(raw)) {
      throw new Error(`--${name} must be one of ${options.join(', ')}`);
    }
    return raw as T;
  }
}
