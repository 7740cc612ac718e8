// Values arrive as strings from flags and the environment, and as JSON values
// from a config file: each schema accepts both and says what is allowed.
// A schema is a plain function behind `safeParse` (no validation library: the
// apps load this at every start, and zod alone was some 190 modules of it).

/** The outcome of checking one raw value: the value, or what is wrong with it (`got ..., use ...`). */
export type ParseResult<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly error: { readonly issues: readonly { readonly message: string }[] } };

/** Checks one option's raw value (a string, a JSON value, or undefined when unset). */
export interface ValueSchema<T> {
  safeParse(raw: unknown): ParseResult<T>;
}

/** What a check returns instead of a value: the one line that says what is wrong and what to use. */
export class Invalid {
  constructor(readonly message: string) {}
}

/** A schema from a check that returns the value, or an `Invalid`. */
export function valueSchema<T>(check: (raw: unknown) => T | Invalid): ValueSchema<T> {
  return {
    safeParse(raw) {
      const value = check(raw);
      return value instanceof Invalid
        ? { success: false, error: { issues: [{ message: value.message }] } }
        : { success: true, data: value };
    },
  };
}

function show(raw: unknown): string {
  return typeof raw === "string" ? JSON.stringify(raw) : String(JSON.stringify(raw));
}

function toNumber(raw: unknown): number {
  if (typeof raw === "number") return raw;
  if (typeof raw === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(raw)) return Number(raw);
  return Number.NaN;
}

export function integer(min: number, max: number): ValueSchema<number> {
  return valueSchema((raw) => {
    const value = toNumber(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    return new Invalid(`got ${show(raw)}, use a whole number from ${min} to ${max}`);
  });
}

export function decimal(min: number, max: number): ValueSchema<number> {
  return valueSchema((raw) => {
    const value = toNumber(raw);
    if (Number.isFinite(value) && value >= min && value <= max) return value;
    return new Invalid(`got ${show(raw)}, use a number from ${min} to ${max}`);
  });
}

export function oneOf<const T extends readonly string[]>(choices: T): ValueSchema<T[number]> {
  return valueSchema((raw) => {
    const value = typeof raw === "string" ? raw.trim() : raw;
    if (typeof value === "string" && choices.includes(value)) return value;
    return new Invalid(`got ${show(raw)}, use one of: ${choices.join(", ")}`);
  });
}

export function text(options: { allowEmpty?: boolean; pattern?: RegExp; hint?: string } = {}): ValueSchema<string> {
  return valueSchema((raw) => {
    const value = typeof raw === "number" ? String(raw) : raw;
    if (
      typeof value === "string" &&
      (options.allowEmpty === true || value.length > 0) &&
      (options.pattern?.test(value) ?? true)
    ) {
      return value;
    }
    return new Invalid(`got ${show(raw)}, use ${options.hint ?? "a non-empty text"}`);
  });
}

export function flag(): ValueSchema<boolean> {
  return valueSchema((raw) => {
    if (typeof raw === "boolean") return raw;
    if (typeof raw === "string" && /^(1|true|yes|on)$/i.test(raw.trim())) return true;
    if (typeof raw === "string" && /^(0|false|no|off)$/i.test(raw.trim())) return false;
    return new Invalid(`got ${show(raw)}, use true or false`);
  });
}

/** The first problem a schema finds with `raw`, or its value. */
function check<T>(inner: ValueSchema<T>, raw: unknown, rewrite: (message: string) => string = (m) => m): T | Invalid {
  const result = inner.safeParse(raw);
  if (result.success) return result.data;
  return new Invalid(result.error.issues.map((issue) => rewrite(issue.message)).join("; "));
}

/** An optional value: absent (undefined), or the inner schema. */
export function optional<T>(inner: ValueSchema<T>): ValueSchema<T | undefined> {
  return valueSchema((raw) => (raw === undefined ? undefined : check(inner, raw)));
}

/** "auto", or a value of the inner schema. */
export function autoOr<T>(inner: ValueSchema<T>): ValueSchema<T | "auto"> {
  return valueSchema((raw) =>
    raw === "auto" ? "auto" : check(inner, raw, (message) => message.replace(", use ", ", use auto or ")),
  );
}
