import { z } from "zod";

// Values arrive as strings from flags and the environment, and as JSON values
// from a config file: each schema accepts both and says what is allowed.

function show(raw: unknown): string {
  return typeof raw === "string" ? JSON.stringify(raw) : String(JSON.stringify(raw));
}

function toNumber(raw: unknown): number {
  if (typeof raw === "number") return raw;
  if (typeof raw === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(raw)) return Number(raw);
  return Number.NaN;
}

export function integer(min: number, max: number) {
  return z.unknown().transform((raw, ctx): number => {
    const value = toNumber(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    ctx.addIssue({ code: "custom", message: `got ${show(raw)}, use a whole number from ${min} to ${max}` });
    return z.NEVER;
  });
}

export function decimal(min: number, max: number) {
  return z.unknown().transform((raw, ctx): number => {
    const value = toNumber(raw);
    if (Number.isFinite(value) && value >= min && value <= max) return value;
    ctx.addIssue({ code: "custom", message: `got ${show(raw)}, use a number from ${min} to ${max}` });
    return z.NEVER;
  });
}

export function oneOf<const T extends readonly string[]>(choices: T) {
  return z.unknown().transform((raw, ctx): T[number] => {
    const value = typeof raw === "string" ? raw.trim() : raw;
    if (typeof value === "string" && choices.includes(value)) return value;
    ctx.addIssue({ code: "custom", message: `got ${show(raw)}, use one of: ${choices.join(", ")}` });
    return z.NEVER;
  });
}

export function text(options: { allowEmpty?: boolean; pattern?: RegExp; hint?: string } = {}) {
  return z.unknown().transform((raw, ctx): string => {
    const value = typeof raw === "number" ? String(raw) : raw;
    if (
      typeof value === "string" &&
      (options.allowEmpty === true || value.length > 0) &&
      (options.pattern?.test(value) ?? true)
    ) {
      return value;
    }
    ctx.addIssue({ code: "custom", message: `got ${show(raw)}, use ${options.hint ?? "a non-empty text"}` });
    return z.NEVER;
  });
}

export function flag() {
  return z.unknown().transform((raw, ctx): boolean => {
    if (typeof raw === "boolean") return raw;
    if (typeof raw === "string" && /^(1|true|yes|on)$/i.test(raw.trim())) return true;
    if (typeof raw === "string" && /^(0|false|no|off)$/i.test(raw.trim())) return false;
    ctx.addIssue({ code: "custom", message: `got ${show(raw)}, use true or false` });
    return z.NEVER;
  });
}

/** An optional value: absent (undefined), or the inner schema. */
export function optional<T>(inner: z.ZodType<T>) {
  return z.unknown().transform((raw, ctx): T | undefined => {
    if (raw === undefined) return undefined;
    const result = inner.safeParse(raw);
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue({ code: "custom", message: issue.message });
    return z.NEVER;
  });
}

/** "auto", or a value of the inner schema. */
export function autoOr<T>(inner: z.ZodType<T>) {
  return z.unknown().transform((raw, ctx): T | "auto" => {
    if (raw === "auto") return "auto";
    const result = inner.safeParse(raw);
    if (result.success) return result.data;
    for (const issue of result.error.issues)
      ctx.addIssue({ code: "custom", message: issue.message.replace(", use ", ", use auto or ") });
    return z.NEVER;
  });
}
