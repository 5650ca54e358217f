// Where results, progress and errors go. Results: stdout, human lines or one JSON document (--json).
// Progress: stderr, redrawn in place on a terminal, a line every few seconds otherwise, never in stdout.

export interface Writable {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

export type Colour = keyof typeof CODES;

export type Paint = (colour: Colour, text: string) => string;

export function painter(enabled: boolean): Paint {
  return enabled ? (colour, text) => `\u001b[${CODES[colour][0]}m${text}\u001b[${CODES[colour][1]}m` : (_colour, text) => text;
}

export interface OutputOptions {
  json: boolean;
  /** undefined: colours when stdout is a terminal. */
  color: boolean | undefined;
  stdout: Writable;
  stderr: Writable;
  now?: () => number;
}

export class Output {
  readonly json: boolean;
  readonly paint: Paint;
  readonly #stdout: Writable;
  readonly #stderr: Writable;
  readonly #now: () => number;
  #progressShown = false;
  #lastProgressAt = Number.NEGATIVE_INFINITY;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
    this.#now = options.now ?? Date.now;
    this.paint = painter(!options.json && (options.color ?? options.stdout.isTTY === true));
  }

  /** A command's result: the human text, or the JSON value with --json. */
  result(human: string | readonly string[], json: unknown): void {
    this.clearProgress();
    if (this.json) this.#stdout.write(`${JSON.stringify(json)}\n`);
    else this.#stdout.write(`${typeof human === 'string' ? human : human.join('\n')}\n`);
  }

  /** One item of a stream (chain tail -f, demo): a line, or one JSON document per line with --json. */
  item(human: string, json: unknown): void {
    this.result(human, json);
  }

  /** A note for people (not part of the result): stderr, suppressed with --json. */
  note(text: string): void {
    if (this.json) return;
    this.clearProgress();
    this.#stderr.write(`${text}\n`);
  }

  /** Progress of a long operation, on stderr: redrawn on a terminal, throttled to one line per 2 s otherwise. */
  progress(text: string, force = false): void {
    if (this.#stderr.isTTY === true) {
      this.#stderr.write(`\r\u001b[2K${text}`);
      this.#progressShown = true;
      return;
    }
    const now = this.#now();
    if (!force && now - this.#lastProgressAt < 2000) return;
    this.#lastProgressAt = now;
    this.#stderr.write(`${text}\n`);
  }

  clearProgress(): void {
    if (!this.#progressShown) return;
    this.#stderr.write('\r\u001b[2K');
    this.#progressShown = false;
  }

  /** The one-line message of a failed command. */
  error(message: string): void {
    this.clearProgress();
    this.#stderr.write(`chainlog: ${message}\n`);
  }
}
