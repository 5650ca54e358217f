// Environment parsing shared by every service's config.ts: each reader records a problem instead of
// throwing, so a misconfigured service reports every bad variable at once, then refuses to start.
import { readFileSync } from 'node:fs';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Every service's first step: its configuration, or exit code 2 with one message naming every problem
 * (a misconfigured pod then shows the reason in its logs instead of a stack trace).
 */
export function readConfigOrExit<T>(program: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${program}: ${error.message}\n`);
    process.exit(2);
  }
}

type Env = Record<string, string | undefined>;

export class EnvReader {
  readonly #problems: string[] = [];

  readonly #env: Env;

  constructor(env: Env = process.env) {
    this.#env = env;
  }

  #raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string, pattern?: { regex: RegExp; description: string }): string {
    const value = this.#raw(name) ?? fallback;
    if (pattern && !pattern.regex.test(value)) this.#problems.push(`${name} must be ${pattern.description}, got "${value}"`);
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.#raw(name);
  }

  /** A secret from NAME or from the file named by NAME_FILE (Kubernetes secret mounts); never logged. */
  secret(name: string): string | undefined {
    const direct = this.#raw(name);
    const file = this.#raw(`${name}_FILE`);
    if (direct !== undefined && file !== undefined) {
      this.#problems.push(`set only one of ${name} and ${name}_FILE`);
      return undefined;
    }
    if (file === undefined) return direct;
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      this.#problems.push(`${name}_FILE names a file that cannot be read (${file}): ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      return undefined;
    }
  }

  integer(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const raw = this.#raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      this.#problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  optionalInteger(name: string, range: { min?: number; max?: number } = {}): number | undefined {
    return this.#raw(name) === undefined ? undefined : this.integer(name, 0, range);
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.#raw(name);
    if (raw === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(raw)) return true;
    if (/^(false|0|no)$/i.test(raw)) return false;
    this.#problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  list(name: string, fallback: string[]): string[] {
    const raw = this.#raw(name);
    if (raw === undefined) return fallback;
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.#raw(name) ?? fallback;
    if (!(choices as readonly string[]).includes(raw)) {
      this.#problems.push(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  /**
   * A variable that was renamed: the old name set is a problem naming the new one, instead of a setting that
   * is silently ignored (and a default silently used).
   */
  renamed(oldName: string, newName: string): void {
    if (this.#raw(oldName) !== undefined) this.#problems.push(`${oldName} was renamed ${newName}: set ${newName} instead`);
  }

  /** Records a problem found by a cross-field check in a service's config.ts. */
  problem(message: string): void {
    this.#problems.push(message);
  }

  /** Throws a ConfigError naming every problem found so far. */
  done(): void {
    if (this.#problems.length > 0) throw new ConfigError([...this.#problems]);
  }
}
