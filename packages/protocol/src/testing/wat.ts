/**
 * A small WebAssembly text assembler, enough for src/gf256-simd.wat: one module with memories and
 * functions, inline exports, params, locals, and flat (unfolded) instructions from the table
 * below. Anything else is an error naming the line. It writes the bytes wabt's wat2wasm writes
 * for the same text (checked when it was written: types in order of first use, locals grouped in
 * runs of one type, natural alignment unless `align=` says otherwise, no name section).
 *
 * Used by scripts/gen-gf256-simd.mjs to generate src/gf256-simd-wasm.ts, and by the test that
 * keeps the two in step. Not part of the published package.
 */

const VALTYPES: Readonly<Record<string, number>> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Instructions without immediates. */
const PLAIN: Readonly<Record<string, number[]>> = {
  return: [0x0f],
  drop: [0x1a],
  "i32.eqz": [0x45],
  "i32.eq": [0x46],
  "i32.ne": [0x47],
  "i32.lt_u": [0x49],
  "i32.gt_u": [0x4b],
  "i32.le_u": [0x4d],
  "i32.ge_u": [0x4f],
  "i32.add": [0x6a],
  "i32.sub": [0x6b],
  "i32.mul": [0x6c],
  "i32.and": [0x71],
  "i32.or": [0x72],
  "i32.xor": [0x73],
  "i32.shl": [0x74],
  "i32.shr_u": [0x76],
  "i8x16.swizzle": [0xfd, 0x0e],
  "v128.and": [0xfd, 0x4e],
  "v128.or": [0xfd, 0x50],
  "v128.xor": [0xfd, 0x51],
  "i8x16.shr_u": [0xfd, 0x6d],
  "i16x8.shr_u": [0xfd, 0x8d, 0x01],
};

/** Loads and stores: opcode and natural alignment (log2 of bytes). */
const MEMORY: Readonly<Record<string, { readonly op: number[]; readonly align: number }>> = {
  "i32.load": { op: [0x28], align: 2 },
  "i32.load8_u": { op: [0x2d], align: 0 },
  "i32.store": { op: [0x36], align: 2 },
  "i32.store8": { op: [0x3a], align: 0 },
  "v128.load": { op: [0xfd, 0x00], align: 4 },
  "v128.store": { op: [0xfd, 0x0b], align: 4 },
};

const VOID_BLOCK = 0x40;

export class WatError extends Error {
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.name = "WatError";
  }
}

interface Atom {
  readonly atom: string;
  readonly line: number;
}
interface List {
  readonly list: Node[];
  readonly line: number;
}
type Node = Atom | List;

function tokenize(text: string): Node {
  const stack: { list: Node[]; line: number }[] = [{ list: [], line: 1 }];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "\n") {
      line++;
      i++;
    } else if (/\s/.test(ch)) {
      i++;
    } else if (text.startsWith(";;", i)) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (text.startsWith("(;", i)) {
      const end = text.indexOf(";)", i + 2);
      if (end < 0) throw new WatError("unterminated block comment", line);
      for (let k = i; k < end; k++) if (text[k] === "\n") line++;
      i = end + 2;
    } else if (ch === "(") {
      stack.push({ list: [], line });
      i++;
    } else if (ch === ")") {
      const done = stack.pop();
      const parent = stack[stack.length - 1];
      if (done === undefined || parent === undefined) throw new WatError("unbalanced ')'", line);
      parent.list.push(done);
      i++;
    } else if (ch === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new WatError("unterminated string", line);
      const body = text.slice(i + 1, end);
      if (/[\\\n]/.test(body)) throw new WatError("escapes and line breaks in strings are not supported", line);
      stack[stack.length - 1]!.list.push({ atom: text.slice(i, end + 1), line });
      i = end + 1;
    } else {
      let end = i;
      while (end < text.length && !/[\s()";]/.test(text[end]!)) end++;
      stack[stack.length - 1]!.list.push({ atom: text.slice(i, end), line });
      i = end;
    }
  }
  if (stack.length !== 1) throw new WatError("unbalanced '('", stack[stack.length - 1]!.line);
  const top = stack[0]!.list;
  if (top.length !== 1 || !("list" in top[0]!)) throw new WatError("expected one (module ...)", 1);
  return top[0];
}

function u32(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
}

function s32(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...u32(bytes.length), ...bytes];
}

function vec(items: readonly number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...u32(body.length), ...body];
}

function head(node: Node): string | undefined {
  return "list" in node && node.list[0] !== undefined && "atom" in node.list[0] ? node.list[0].atom : undefined;
}

function atomOf(node: Node | undefined, what: string, line: number): Atom {
  if (node === undefined || !("atom" in node)) throw new WatError(`expected ${what}`, node?.line ?? line);
  return node;
}

function integer(node: Node | undefined, line: number, min: number, max: number): number {
  const { atom, line: at } = atomOf(node, "an integer", line);
  const clean = atom.replace(/_/g, "");
  const value = /^-?0x[0-9a-f]+$/i.test(clean) ? (clean.startsWith("-") ? -parseInt(clean.slice(1), 16) : parseInt(clean, 16)) : /^-?\d+$/.test(clean) ? Number(clean) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) throw new WatError(`expected an integer from ${min} to ${max}, got ${atom}`, at);
  return value;
}

function stringOf(node: Node | undefined, line: number): string {
  const { atom, line: at } = atomOf(node, "a string", line);
  if (!atom.startsWith('"')) throw new WatError(`expected a string, got ${atom}`, at);
  return atom.slice(1, -1);
}

function valtype(node: Node | undefined, line: number): number {
  const { atom, line: at } = atomOf(node, "a value type", line);
  const type = VALTYPES[atom];
  if (type === undefined) throw new WatError(`unknown value type ${atom}`, at);
  return type;
}

interface Func {
  readonly id: string | undefined;
  readonly params: number[];
  readonly paramNames: (string | undefined)[];
  readonly results: number[];
  readonly locals: number[];
  readonly localNames: (string | undefined)[];
  readonly body: Atom[];
  readonly line: number;
}

/** The binary module for `text`. Throws WatError naming the line of the first thing it cannot assemble. */
export function assembleWat(text: string): Uint8Array {
  const module = tokenize(text) as List;
  if (head(module) !== "module") throw new WatError("expected (module ...)", module.line);

  const memories: number[][] = [];
  const exports: { name: string; kind: number; index: number }[] = [];
  const funcs: Func[] = [];

  for (const field of module.list.slice(1)) {
    if (!("list" in field)) throw new WatError(`unexpected ${field.atom} in module`, field.line);
    const kind = head(field);
    let rest = field.list.slice(1);
    const id = rest[0] !== undefined && "atom" in rest[0] && rest[0].atom.startsWith("$") ? rest[0].atom : undefined;
    if (id !== undefined) rest = rest.slice(1);
    const inlineExports: string[] = [];
    while (rest[0] !== undefined && head(rest[0]) === "export") {
      inlineExports.push(stringOf((rest[0] as List).list[1], rest[0].line));
      rest = rest.slice(1);
    }
    if (kind === "memory") {
      const min = integer(rest[0], field.line, 0, 65536);
      const max = rest[1] === undefined ? undefined : integer(rest[1], field.line, min, 65536);
      if (rest.length > 2) throw new WatError("unexpected memory field", field.line);
      for (const exported of inlineExports) exports.push({ name: exported, kind: 0x02, index: memories.length });
      memories.push(max === undefined ? [0x00, ...u32(min)] : [0x01, ...u32(min), ...u32(max)]);
    } else if (kind === "func") {
      const func: Func = { id, params: [], paramNames: [], results: [], locals: [], localNames: [], body: [], line: field.line };
      for (const item of rest) {
        const what = head(item);
        if ("list" in item && (what === "param" || what === "local" || what === "result")) {
          const parts = item.list.slice(1);
          const named = parts[0] !== undefined && "atom" in parts[0] && parts[0].atom.startsWith("$") ? parts[0].atom : undefined;
          if (what === "result") {
            for (const part of parts) func.results.push(valtype(part, item.line));
          } else if (named !== undefined) {
            if (parts.length !== 2) throw new WatError(`a named ${what} takes one type`, item.line);
            (what === "param" ? func.params : func.locals).push(valtype(parts[1], item.line));
            (what === "param" ? func.paramNames : func.localNames).push(named);
          } else {
            for (const part of parts) {
              (what === "param" ? func.params : func.locals).push(valtype(part, item.line));
              (what === "param" ? func.paramNames : func.localNames).push(undefined);
            }
          }
        } else if ("atom" in item) {
          func.body.push(item);
        } else {
          throw new WatError(`folded instructions are not supported: (${what ?? ""} ...)`, item.line);
        }
      }
      for (const exported of inlineExports) exports.push({ name: exported, kind: 0x00, index: funcs.length });
      funcs.push(func);
    } else {
      throw new WatError(`unsupported module field (${kind ?? ""} ...)`, field.line);
    }
  }

  const types: string[] = [];
  const typeOf = funcs.map((f) => {
    const key = JSON.stringify([f.params, f.results]);
    if (!types.includes(key)) types.push(key);
    return types.indexOf(key);
  });
  const funcIndex = new Map<string, number>();
  funcs.forEach((f, index) => f.id !== undefined && funcIndex.set(f.id, index));

  const bodies = funcs.map((f) => {
    const names = [...f.paramNames, ...f.localNames];
    const local = (node: Node | undefined, line: number): number => {
      const { atom, line: at } = atomOf(node, "a local", line);
      const index = atom.startsWith("$") ? names.indexOf(atom) : integer(node, line, 0, names.length - 1);
      if (index < 0) throw new WatError(`unknown local ${atom}`, at);
      return index;
    };
    const labels: (string | undefined)[] = [];
    const code: number[] = [];
    let i = 0;
    const next = (): Atom | undefined => f.body[i++];
    const peek = (): Atom | undefined => f.body[i];
    while (i < f.body.length) {
      const { atom: op, line } = next()!;
      const plain = PLAIN[op];
      const memory = MEMORY[op];
      if (plain !== undefined) {
        code.push(...plain);
      } else if (memory !== undefined) {
        let offset = 0;
        let align = memory.align;
        for (let arg = peek(); arg !== undefined && /^(offset|align)=/.test(arg.atom); arg = peek()) {
          next();
          const [key, value] = arg.atom.split("=") as [string, string];
          const number = integer({ atom: value, line: arg.line }, arg.line, 0, 0xffffffff);
          if (key === "offset") offset = number;
          else {
            align = Math.log2(number);
            if (!Number.isInteger(align) || align > memory.align) throw new WatError(`bad alignment ${value}`, arg.line);
          }
        }
        code.push(...memory.op, ...u32(align), ...u32(offset));
      } else if (op === "local.get" || op === "local.set" || op === "local.tee") {
        code.push({ "local.get": 0x20, "local.set": 0x21, "local.tee": 0x22 }[op], ...u32(local(next(), line)));
      } else if (op === "i32.const") {
        code.push(0x41, ...s32(integer(next(), line, -0x80000000, 0xffffffff)));
      } else if (op === "v128.const") {
        const shape = atomOf(next(), "a v128 shape", line);
        if (shape.atom !== "i8x16") throw new WatError(`only v128.const i8x16 is supported, got ${shape.atom}`, shape.line);
        code.push(0xfd, 0x0c);
        for (let lane = 0; lane < 16; lane++) code.push(integer(next(), line, -128, 255) & 0xff);
      } else if (op === "block" || op === "loop" || op === "if") {
        const label = peek()?.atom.startsWith("$") ? next()!.atom : undefined;
        labels.push(label);
        code.push({ block: 0x02, loop: 0x03, if: 0x04 }[op], VOID_BLOCK);
      } else if (op === "else") {
        code.push(0x05);
      } else if (op === "end") {
        if (labels.length === 0) throw new WatError("end without block", line);
        const label = labels.pop();
        if (peek()?.atom.startsWith("$") && peek()?.atom === label) next();
        code.push(0x0b);
      } else if (op === "br" || op === "br_if") {
        const target = atomOf(next(), "a label", line);
        const depth = target.atom.startsWith("$") ? labels.length - 1 - labels.lastIndexOf(target.atom) : integer(target, line, 0, labels.length - 1);
        if (depth >= labels.length) throw new WatError(`unknown label ${target.atom}`, target.line);
        code.push(op === "br" ? 0x0c : 0x0d, ...u32(depth));
      } else if (op === "call") {
        const target = atomOf(next(), "a function", line);
        const index = target.atom.startsWith("$") ? funcIndex.get(target.atom) : integer(target, line, 0, funcs.length - 1);
        if (index === undefined) throw new WatError(`unknown function ${target.atom}`, target.line);
        code.push(0x10, ...u32(index));
      } else {
        throw new WatError(`unsupported instruction ${op}`, line);
      }
    }
    if (labels.length > 0) throw new WatError("block without end", f.line);
    const runs: number[][] = [];
    for (const type of f.locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === type) last[0]!++;
      else runs.push([1, type]);
    }
    const body = [...vec(runs.map(([count, type]) => [...u32(count!), type!])), ...code, 0x0b];
    return [...u32(body.length), ...body];
  });

  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vec(
        types.map((key) => {
          const [params, results] = JSON.parse(key) as [number[], number[]];
          return [0x60, ...vec(params.map((t) => [t])), ...vec(results.map((t) => [t]))];
        }),
      ),
    ),
    ...section(3, vec(typeOf.map((t) => u32(t)))),
    ...(memories.length > 0 ? section(5, vec(memories)) : []),
    ...(exports.length > 0 ? section(7, vec(exports.map((e) => [...name(e.name), e.kind, ...u32(e.index)]))) : []),
    ...section(10, vec(bodies)),
  ];
  return Uint8Array.from(bytes);
}

/** The TypeScript module that embeds `wasm`, as scripts/gen-gf256-simd.mjs writes it. */
export function renderWasmModule(wasm: Uint8Array, source: string, exportName: string): string {
  const rows: string[] = [];
  for (let i = 0; i < wasm.length; i += 16) {
    rows.push(`  ${Array.from(wasm.subarray(i, i + 16), (b) => `0x${b.toString(16).padStart(2, "0")}`).join(", ")},`);
  }
  return [
    `// Generated from ${source} by scripts/gen-gf256-simd.mjs (\`pnpm --filter @udpcam/protocol gen:wasm\`): do not edit.`,
    "// gf256-simd.test.ts fails when this file and the .wat differ.",
    "",
    `/** The WebAssembly module assembled from ${source}, ${wasm.length} bytes. */`,
    `export const ${exportName} = new Uint8Array([`,
    ...rows,
    "]);",
    "",
  ].join("\n");
}
