/**
 * `helm template` for the tests, where no `helm` binary can be installed (none is packaged for
 * apt or npm): Go's text/template language (actions, trim markers, pipelines, variables, `if`/
 * `else if`/`with`/`range`/`define`/`include`) and the Sprig and Helm functions a chart commonly
 * uses, evaluated the way Helm does (values merged over values.yaml and checked against
 * values.schema.json, `.Release`, `.Chart`, `.Template`, nil printed as nothing).
 *
 * Strict where Helm is strict and a little stricter: reading a field of a missing value throws
 * (Go: "nil pointer evaluating"), an unknown function throws, `required` and `fail` throw with
 * their message. It is a test tool, not a Helm replacement: what it does not know, it refuses.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse, stringify } from 'yaml';

type Json = Record<string, unknown>;

// ---------------------------------------------------------------- lexing and parsing

type Token =
  | { kind: 'text'; text: string }
  | { kind: 'action'; body: string; trimLeft: boolean; trimRight: boolean; at: number };

function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) {
      tokens.push({ kind: 'text', text: source.slice(pos) });
      break;
    }
    tokens.push({ kind: 'text', text: source.slice(pos, open) });
    const trimLeft = source.startsWith('{{- ', open) || source.startsWith('{{-\n', open);
    let inner = open + (trimLeft ? 3 : 2);
    let close: number;
    if (source.startsWith('/*', source.slice(inner).search(/\S/) + inner)) {
      close = source.indexOf('*/', inner);
      if (close < 0) throw new Error('unclosed comment');
      close = source.indexOf('}}', close);
    } else {
      close = findClose(source, inner);
    }
    if (close < 0) throw new Error(`unclosed action at ${open}`);
    const trimRight = /\s-$/.test(source.slice(inner, close));
    const body = source.slice(inner, trimRight ? close - 1 : close).trim();
    inner = close + 2;
    tokens.push({ kind: 'action', body, trimLeft, trimRight, at: open });
    pos = inner;
  }
  // Trim markers eat the white space next to them, newlines included.
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (token.kind !== 'action') continue;
    const before = tokens[i - 1];
    const after = tokens[i + 1];
    if (token.trimLeft && before?.kind === 'text') before.text = before.text.replace(/\s+$/, '');
    if (token.trimRight && after?.kind === 'text') after.text = after.text.replace(/^\s+/, '');
  }
  return tokens;
}

/** The `}}` that closes an action, skipping strings. */
function findClose(source: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < source.length; i++) {
    const c = source[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === '`') quote = c;
    else if (c === '}' && source[i + 1] === '}') return i;
  }
  return -1;
}

type Operand =
  | { t: 'field'; base: 'dot' | 'root' | 'var'; name?: string; path: string[] }
  | { t: 'ident'; name: string }
  | { t: 'lit'; value: unknown }
  | { t: 'sub'; pipe: Pipeline; path: string[] };
interface Command {
  readonly operands: Operand[];
}
interface Pipeline {
  readonly decl: string[];
  readonly assign: boolean;
  readonly commands: Command[];
}
type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipeline }
  | { t: 'if' | 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { t: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { t: 'template'; name: string; pipe?: Pipeline };

const CHAIN = '\u0000';

function tokenizeAction(body: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < body.length && body[j] !== '"') j += body[j] === '\\' ? 2 : 1;
      out.push(body.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = body.indexOf('`', i + 1);
      out.push(body.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === ')' && body[i + 1] === '.') {
      // `(...).Field`: the chain belongs to the parenthesized value (`(...) .` passes dot).
      let j = i + 1;
      while (j < body.length && !/[\s()|,]/.test(body[j] as string)) j++;
      out.push(')', `${CHAIN}${body.slice(i + 1, j)}`);
      i = j;
      continue;
    }
    if (c === '(' || c === ')' || c === '|' || c === ',') {
      out.push(c);
      i++;
      continue;
    }
    if (body.startsWith(':=', i)) {
      out.push(':=');
      i += 2;
      continue;
    }
    if (c === '=' && body[i + 1] !== '=') {
      out.push('=');
      i++;
      continue;
    }
    let j = i;
    while (j < body.length && !/[\s()|,]/.test(body[j] as string) && !body.startsWith(':=', j)) j++;
    out.push(body.slice(i, j));
    i = j;
  }
  return out;
}

function parsePipeline(tokens: string[], allowDecl = true): Pipeline {
  let decl: string[] = [];
  let assign = false;
  const declEnd = tokens.findIndex((t) => t === ':=' || t === '=');
  if (allowDecl && declEnd > 0 && tokens.slice(0, declEnd).every((t) => /^\$\w*$/.test(t) || t === ',')) {
    decl = tokens.slice(0, declEnd).filter((t) => t !== ',');
    assign = tokens[declEnd] === '=';
    tokens = tokens.slice(declEnd + 1);
  }
  const commands: Command[] = [];
  let operands: Operand[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    if (tok === '|') {
      commands.push({ operands });
      operands = [];
      continue;
    }
    if (tok === '(') {
      let depth = 1;
      let j = i + 1;
      for (; j < tokens.length && depth > 0; j++) {
        if (tokens[j] === '(') depth++;
        if (tokens[j] === ')') depth--;
      }
      const inner = tokens.slice(i + 1, j - 1);
      let path: string[] = [];
      const next = tokens[j];
      if (next?.startsWith(CHAIN)) {
        path = next.slice(2).split('.');
        j++;
      }
      operands.push({ t: 'sub', pipe: parsePipeline(inner, false), path });
      i = j - 1;
      continue;
    }
    operands.push(parseOperand(tok));
  }
  commands.push({ operands });
  return { decl, assign, commands };
}

function parseOperand(tok: string): Operand {
  if (tok === '.') return { t: 'field', base: 'dot', path: [] };
  if (tok.startsWith('.')) return { t: 'field', base: 'dot', path: tok.slice(1).split('.') };
  if (tok === '$') return { t: 'field', base: 'root', path: [] };
  if (tok.startsWith('$.')) return { t: 'field', base: 'root', path: tok.slice(2).split('.') };
  if (tok.startsWith('$')) {
    const [name, ...path] = tok.split('.');
    return { t: 'field', base: 'var', name: name as string, path };
  }
  if (tok.startsWith('"')) return { t: 'lit', value: JSON.parse(tok) };
  if (tok.startsWith('`')) return { t: 'lit', value: tok.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(tok)) return { t: 'lit', value: Number(tok) };
  if (tok === 'true' || tok === 'false') return { t: 'lit', value: tok === 'true' };
  if (tok === 'nil') return { t: 'lit', value: null };
  if (/^[A-Za-z_]\w*$/.test(tok)) return { t: 'ident', name: tok };
  throw new Error(`cannot parse ${tok}`);
}

function parseTemplate(source: string, defines: Map<string, Node[]>): Node[] {
  const tokens = lex(source);
  let i = 0;
  const parseList = (stopAt: readonly string[]): { nodes: Node[]; stop: string; rest: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const token = tokens[i++] as Token;
      if (token.kind === 'text') {
        if (token.text) nodes.push({ t: 'text', text: token.text });
        continue;
      }
      const body = token.body;
      if (body.startsWith('/*')) continue;
      const [word = '', ...restWords] = body.split(/\s+/);
      const rest = restWords.join(' ');
      if (stopAt.includes(word)) return { nodes, stop: word, rest };
      if (word === 'if' || word === 'with' || word === 'range') {
        nodes.push(parseBlock(word, rest));
      } else if (word === 'define') {
        const name = JSON.parse(rest) as string;
        const inner = parseList(['end']);
        defines.set(name, inner.nodes);
      } else if (word === 'template') {
        const toks = tokenizeAction(rest);
        const name = JSON.parse(toks[0] as string) as string;
        nodes.push({
          t: 'template',
          name,
          ...(toks.length > 1 ? { pipe: parsePipeline(toks.slice(1)) } : {}),
        });
      } else if (word === 'end' || word === 'else') {
        throw new Error(`unexpected {{${body}}} at ${token.at}`);
      } else {
        nodes.push({ t: 'action', pipe: parsePipeline(tokenizeAction(body)) });
      }
    }
    if (stopAt.length > 0) throw new Error(`missing {{end}} (wanted ${stopAt.join('/')})`);
    return { nodes, stop: '', rest: '' };
  };
  const parseBlock = (kind: 'if' | 'with' | 'range', expr: string): Node => {
    const pipe = parsePipeline(tokenizeAction(expr));
    const body = parseList(['else', 'end']);
    let otherwise: Node[] = [];
    if (body.stop === 'else') {
      if (body.rest.startsWith('if ')) otherwise = [parseBlock('if', body.rest.slice(3))];
      else if (body.rest.startsWith('with ')) otherwise = [parseBlock('with', body.rest.slice(5))];
      else otherwise = parseList(['end']).nodes;
    }
    return { t: kind, pipe, body: body.nodes, otherwise };
  };
  return parseList([]).nodes;
}

// ---------------------------------------------------------------- evaluation

/** Go's truth: false, 0, "", nil and empty collections are false. */
export function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function printValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(printValue).join(' ')}]`;
  return `map[${Object.entries(value as Json)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}:${printValue(v)}`)
    .join(' ')}]`;
}

function field(value: unknown, path: readonly string[], what: string): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || node === undefined || typeof node !== 'object')
      throw new Error(`nil pointer evaluating ${what}: no .${key} in ${JSON.stringify(node)}`);
    node = (node as Json)[key];
  }
  return node;
}

function toYaml(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  return stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
}

function indentLines(n: number, text: string): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((line) => pad + line)
    .join('\n');
}

function goQuote(value: unknown): string {
  return JSON.stringify(printValue(value));
}

function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([svdq%])/g, (_, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[i++];
    if (verb === 'q') return goQuote(arg);
    if (verb === 'd') return String(Math.trunc(Number(arg)));
    return printValue(arg);
  });
}

class Scope {
  readonly #vars = new Map<string, unknown>();
  constructor(readonly parent?: Scope) {}
  get(name: string): unknown {
    if (this.#vars.has(name)) return this.#vars.get(name);
    if (this.parent) return this.parent.get(name);
    throw new Error(`undefined variable ${name}`);
  }
  declare(name: string, value: unknown): void {
    this.#vars.set(name, value);
  }
  assign(name: string, value: unknown): void {
    if (this.#vars.has(name) || !this.parent) this.#vars.set(name, value);
    else this.parent.assign(name, value);
  }
}

interface Frame {
  readonly dot: unknown;
  readonly root: unknown;
  readonly scope: Scope;
}

export class GoTemplates {
  readonly defines = new Map<string, Node[]>();

  /** Parses `source`; its `define`s become includable, and it is includable itself as `name`. */
  add(name: string, source: string): void {
    this.defines.set(name, parseTemplate(source, this.defines));
  }

  execute(name: string, data: unknown): string {
    const nodes = this.defines.get(name);
    if (!nodes) throw new Error(`no template "${name}"`);
    const scope = new Scope();
    scope.declare('$', data);
    return this.#run(nodes, { dot: data, root: data, scope });
  }

  #run(nodes: readonly Node[], frame: Frame): string {
    let out = '';
    for (const node of nodes) {
      switch (node.t) {
        case 'text':
          out += node.text;
          break;
        case 'action': {
          const value = this.#pipe(node.pipe, frame);
          if (node.pipe.decl.length === 0) out += printValue(value);
          break;
        }
        case 'template':
          out += this.execute(node.name, node.pipe ? this.#pipe(node.pipe, frame) : frame.dot);
          break;
        case 'if': {
          const scope = new Scope(frame.scope);
          const inner = { ...frame, scope };
          out += truthy(this.#pipe(node.pipe, inner))
            ? this.#run(node.body, inner)
            : this.#run(node.otherwise, frame);
          break;
        }
        case 'with': {
          const scope = new Scope(frame.scope);
          const value = this.#pipe(node.pipe, { ...frame, scope });
          out += truthy(value)
            ? this.#run(node.body, { ...frame, dot: value, scope })
            : this.#run(node.otherwise, frame);
          break;
        }
        case 'range': {
          const { decl } = node.pipe;
          const value = this.#pipe({ ...node.pipe, decl: [] }, frame);
          const entries: [unknown, unknown][] = Array.isArray(value)
            ? value.map((v, k) => [k, v])
            : value && typeof value === 'object'
              ? Object.keys(value)
                  .sort()
                  .map((k) => [k, (value as Json)[k]])
              : typeof value === 'number'
                ? Array.from({ length: value }, (_, k) => [k, k])
                : [];
          if (entries.length === 0) {
            out += this.#run(node.otherwise, frame);
            break;
          }
          for (const [key, item] of entries) {
            const scope = new Scope(frame.scope);
            if (decl.length === 1) scope.declare(decl[0] as string, item);
            if (decl.length === 2) {
              scope.declare(decl[0] as string, key);
              scope.declare(decl[1] as string, item);
            }
            out += this.#run(node.body, { ...frame, dot: item, scope });
          }
          break;
        }
      }
    }
    return out;
  }

  #pipe(pipe: Pipeline, frame: Frame): unknown {
    let value: unknown;
    let piped = false;
    for (const command of pipe.commands) {
      value = this.#command(command, frame, piped ? [value] : []);
      piped = true;
    }
    for (const name of pipe.decl) {
      if (pipe.assign) frame.scope.assign(name, value);
      else frame.scope.declare(name, value);
    }
    return value;
  }

  #operand(operand: Operand, frame: Frame): unknown {
    switch (operand.t) {
      case 'lit':
        return operand.value;
      case 'field': {
        const base =
          operand.base === 'dot'
            ? frame.dot
            : operand.base === 'root'
              ? frame.root
              : frame.scope.get(operand.name as string);
        return field(
          base,
          operand.path,
          `${operand.base === 'var' ? operand.name : '.'}.${operand.path.join('.')}`,
        );
      }
      case 'sub':
        return field(this.#pipe(operand.pipe, frame), operand.path, `(...).${operand.path.join('.')}`);
      case 'ident':
        return this.#call(operand.name, [], frame);
    }
  }

  #command(command: Command, frame: Frame, pipedIn: unknown[]): unknown {
    const [head, ...rest] = command.operands;
    if (!head) throw new Error('empty command');
    if (head.t === 'ident') {
      // `and`/`or` short-circuit, as in Go 1.18+.
      if (head.name === 'and' || head.name === 'or') {
        let last: unknown;
        for (const operand of rest) {
          last = this.#operand(operand, frame);
          if (head.name === 'and' ? !truthy(last) : truthy(last)) return last;
        }
        if (pipedIn.length) last = pipedIn[0];
        return last;
      }
      const args = [...rest.map((o) => this.#operand(o, frame)), ...pipedIn];
      return this.#call(head.name, args, frame);
    }
    if (rest.length > 0 || pipedIn.length > 0) throw new Error('only functions take arguments');
    return this.#operand(head, frame);
  }

  #call(name: string, args: unknown[], frame: Frame): unknown {
    const fn = FUNCTIONS[name];
    if (name === 'include') return this.execute(String(args[0]), args[1]);
    if (name === 'tpl') {
      const scratch = new GoTemplates();
      for (const [k, v] of this.defines) scratch.defines.set(k, v);
      scratch.add('__tpl__', String(args[0]));
      return scratch.execute('__tpl__', args[1]);
    }
    if (!fn) throw new Error(`function "${name}" not defined`);
    void frame;
    return fn(...args);
  }
}

const num = (v: unknown): number => {
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`not a number: ${JSON.stringify(v)}`);
  return n;
};

function equal(a: unknown, b: unknown): boolean {
  return a === b || (a == null && b == null);
}

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  default: (fallback, ...given) => (given.length && truthy(given[0]) ? given[0] : fallback),
  empty: (v) => !truthy(v),
  not: (v) => !truthy(v),
  eq: (a, ...bs) => bs.some((b) => equal(a, b)),
  ne: (a, b) => !equal(a, b),
  lt: (a, b) => num(a) < num(b),
  le: (a, b) => num(a) <= num(b),
  gt: (a, b) => num(a) > num(b),
  ge: (a, b) => num(a) >= num(b),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : Object.keys(v as Json).length),
  required: (message, v) => {
    if (v === null || v === undefined || v === '') throw new Error(`required: ${String(message)}`);
    return v;
  },
  fail: (message) => {
    throw new Error(`fail: ${String(message)}`);
  },
  quote: (...vs) =>
    vs
      .filter((v) => v !== null && v !== undefined)
      .map(goQuote)
      .join(' '),
  squote: (...vs) =>
    vs
      .filter((v) => v !== null && v !== undefined)
      .map((v) => `'${printValue(v)}'`)
      .join(' '),
  print: (...vs) => vs.map(printValue).join(''),
  printf: (format, ...vs) => sprintf(String(format), vs),
  toString: (v: unknown) => printValue(v),
  int: (v) => Math.trunc(Number(v) || 0),
  int64: (v) => Math.trunc(Number(v) || 0),
  float64: (v) => Number(v) || 0,
  add: (...vs) => vs.reduce<number>((sum, v) => sum + num(v), 0),
  add1: (v) => num(v) + 1,
  sub: (a, b) => num(a) - num(b),
  mul: (...vs) => vs.reduce<number>((p, v) => p * num(v), 1),
  div: (a, b) => Math.trunc(num(a) / num(b)),
  max: (...vs) => Math.max(...vs.map(num)),
  min: (...vs) => Math.min(...vs.map(num)),
  trunc: (n, s) => {
    const str = printValue(s);
    const k = num(n);
    return k >= 0 ? str.slice(0, k) : str.slice(k);
  },
  trim: (s) => printValue(s).trim(),
  trimSuffix: (suffix, s) => {
    const str = printValue(s);
    const suf = printValue(suffix);
    return suf && str.endsWith(suf) ? str.slice(0, -suf.length) : str;
  },
  trimPrefix: (prefix, s) => {
    const str = printValue(s);
    const pre = printValue(prefix);
    return pre && str.startsWith(pre) ? str.slice(pre.length) : str;
  },
  contains: (sub, s) => printValue(s).includes(printValue(sub)),
  hasPrefix: (pre, s) => printValue(s).startsWith(printValue(pre)),
  hasSuffix: (suf, s) => printValue(s).endsWith(printValue(suf)),
  replace: (from, to, s) => printValue(s).split(printValue(from)).join(printValue(to)),
  lower: (s) => printValue(s).toLowerCase(),
  upper: (s) => printValue(s).toUpperCase(),
  toYaml: (v) => toYaml(v),
  toJson: (v) => JSON.stringify(v ?? null),
  nindent: (n, s) => `\n${indentLines(num(n), printValue(s))}`,
  indent: (n, s) => indentLines(num(n), printValue(s)),
  sha256sum: (s) => createHash('sha256').update(printValue(s)).digest('hex'),
  b64enc: (s) => Buffer.from(printValue(s)).toString('base64'),
  dict: (...kv) => {
    const out: Json = {};
    for (let i = 0; i < kv.length; i += 2) out[printValue(kv[i])] = kv[i + 1];
    return out;
  },
  list: (...vs) => vs,
  has: (needle, haystack) => (haystack as unknown[]).some((v) => equal(v, needle)),
  hasKey: (map, key) => Object.hasOwn((map ?? {}) as Json, printValue(key)),
  keys: (...maps) => maps.flatMap((m) => Object.keys((m ?? {}) as Json)),
  sortAlpha: (vs) => [...(vs as unknown[])].map(printValue).sort(),
  join: (sep, vs) => (vs as unknown[]).map(printValue).join(printValue(sep)),
  index: (v, ...keys) => keys.reduce<unknown>((node, k) => (node as Json | undefined)?.[printValue(k)], v),
  ternary: (a, b, cond) => (truthy(cond) ? a : b),
  coalesce: (...vs) => vs.find(truthy),
  kindIs: (kind, v) => kindOf(v) === kind,
  typeIs: (kind, v) => kindOf(v) === kind,
};

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'invalid';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

// ---------------------------------------------------------------- helm template

/** `values` over `base`, as Helm merges `--set`/`-f` over values.yaml (null deletes a key). */
export function mergeValues(base: unknown, values: unknown): unknown {
  if (values === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(values)) return values;
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(values)) {
    if (value === null) delete out[key];
    else out[key] = mergeValues(base[key], value);
  }
  return out;
}

function isPlainObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface RenderOptions {
  readonly values?: Json;
  readonly releaseName?: string;
  readonly namespace?: string;
}

export interface RenderedChart {
  /** Every manifest of every template, parsed, with the file it came from. */
  readonly manifests: { file: string; manifest: Json }[];
  /** Rendered text by template file (templates/*.yaml, NOTES.txt). */
  readonly files: Map<string, string>;
}

/** `helm template <release> <chartDir> -f values`: values checked against values.schema.json first. */
export function renderChart(chartDir: string, options: RenderOptions = {}): RenderedChart {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Json;
  const defaults = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Json;
  const values = mergeValues(defaults, options.values ?? {}) as Json;
  const schemaPath = join(chartDir, 'values.schema.json');
  let schemaText: string | undefined;
  try {
    schemaText = readFileSync(schemaPath, 'utf8');
  } catch {
    schemaText = undefined;
  }
  if (schemaText !== undefined) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(schemaText) as object);
    if (!validate(values)) {
      throw new Error(
        `values don't meet the specifications of the schema: ${ajv.errorsText(validate.errors, { dataVar: 'values' })}`,
      );
    }
  }
  const chartName = String(chart['name']);
  const templatesDir = join(chartDir, 'templates');
  const engine = new GoTemplates();
  const files = readdirSync(templatesDir).sort();
  const basePath = `${chartName}/templates`;
  for (const file of files) engine.add(`${basePath}/${file}`, readFileSync(join(templatesDir, file), 'utf8'));
  const release = {
    Name: options.releaseName ?? 'release',
    Namespace: options.namespace ?? 'default',
    Service: 'Helm',
    IsInstall: true,
    IsUpgrade: false,
    Revision: 1,
  };
  const chartData = {
    ...chart,
    Name: chart['name'],
    Version: chart['version'],
    AppVersion: chart['appVersion'],
    Description: chart['description'],
  };
  const rendered = new Map<string, string>();
  const manifests: { file: string; manifest: Json }[] = [];
  for (const file of files) {
    if (file.startsWith('_')) continue;
    const name = `${basePath}/${file}`;
    const data = {
      Values: values,
      Release: release,
      Chart: chartData,
      Capabilities: { KubeVersion: { Version: 'v1.30.0', Major: '1', Minor: '30' } },
      Template: { Name: name, BasePath: basePath },
    };
    const text = engine.execute(name, data);
    rendered.set(file, text);
    if (!file.endsWith('.yaml')) continue;
    for (const doc of text.split(/^---\s*$/m)) {
      if (doc.trim() === '') continue;
      const manifest = parse(doc, { uniqueKeys: true }) as Json | null;
      if (manifest) manifests.push({ file, manifest });
    }
  }
  return { manifests, files: rendered };
}
