import * as fs from 'fs';
import * as path from 'path';
import * as jsyaml from 'js-yaml';
import { Document, isMap, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { text as asText } from './text';

/** Where an object came from: the file (`<stdin>` for `-`) and the line its mapping starts on. */
export interface Source {
  readonly file: string;
  readonly line: number;
}

/**
 * One Kubernetes object read from the input, with enough of its YAML to point at a field's line.
 */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** Undefined when the manifest leaves it to `kubectl -n` or the engine's target namespace. */
  readonly namespace?: string;
  readonly annotations: { readonly [key: string]: string };
  /** The object as plain data. */
  readonly raw: any;
  readonly source: Source;
  /** Position in the whole input, in reading order: what `kubectl apply -f` follows. */
  readonly order: number;
  /** The template named by a `# Source:` comment before it, as `helm template` writes. */
  readonly helmSource?: string;
  /** Keys its YAML repeats; the last value is the one read, as Kubernetes does. */
  readonly duplicateKeys?: readonly DuplicateKey[];
  /** The line of a field, or of its nearest present parent; the object's line when none is present. */
  lineOf(fieldPath: ReadonlyArray<string | number>): number;
}

/**
 * Input the linter cannot use: unreadable paths and YAML that does not parse. Reported with file
 * and line, and exit code 2.
 */
export class InputError extends Error {
  constructor(public readonly file: string, public readonly line: number | undefined, public readonly detail: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
  }
}

export const STDIN = '<stdin>';

/** The YAML files of a directory, recursively, in a stable order; hidden folders and node_modules are skipped. */
export function yamlFilesUnder(dir: string): string[] {
  const found: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && entry.name !== 'node_modules') {
        found.push(...yamlFilesUnder(full));
      }
    } else if (/\.ya?ml$/i.test(entry.name)) {
      found.push(full);
    }
  }
  return found;
}

/** Expands the command line's paths: files as given, directories to their YAML files, `-` kept. */
export function expandPaths(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (p === '-') {
      files.push(p);
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new InputError(p, undefined, 'no such file or directory');
    }
    files.push(...(stat.isDirectory() ? yamlFilesUnder(p) : [p]));
  }
  return files;
}

// --- parsing ----------------------------------------------------------------------------------
//
// The data comes from js-yaml, which is fast and, with `json: true`, takes the last of duplicate
// keys as Go's decoder (Helm, the API server) does. Lines come from `yaml`'s syntax tree, built for a
// document only when a finding asks for a field's line: most documents never need it.

/** Booleans as YAML 1.1 has them (sigs.k8s.io/yaml reads YAML 1.1): `true`, and `yes`, `on` and friends. Replaces the core schema's. */
const YAML11_BOOL = new jsyaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string) => /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/.test(data),
  construct: (data: string) => /^(?:y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/.test(data),
});
/** Any other tag (`!Ref`, `!!binary`): Go's decoder reads the node as it is written, so do we. */
const anyTag = (prefix: string) => (['scalar', 'sequence', 'mapping'] as const).map((kind) => new jsyaml.Type(prefix, {
  kind,
  multi: true,
  construct: (data: any) => data ?? (kind === 'scalar' ? '' : kind === 'sequence' ? [] : {}),
}));
// The core schema (no timestamps turned into dates), merge keys, YAML 1.1 booleans, any tag.
const SCHEMA = jsyaml.CORE_SCHEMA.extend({
  // `types` is exported by js-yaml 4 but missing from its typings.
  implicit: [YAML11_BOOL, (jsyaml as unknown as { types: { merge: jsyaml.Type } }).types.merge],
  explicit: [...anyTag('!'), ...anyTag('tag:')],
});

/** A key that a mapping repeats: Kubernetes keeps the last value, silently. */
export interface DuplicateKey {
  readonly key: string;
  readonly line: number;
}

/** One `---`-separated piece of the stream: its text and the line it starts on. */
interface Chunk {
  text: string;
  readonly firstLine: number;
}

const DOCUMENT_START = /^---(?:[ \t]|$)/;

/**
 * Splits a stream at its `---` lines. A line starting with `---` at column 0 can only be a document
 * marker (inside a block scalar it would be indented; inside a quoted scalar it is an error), so
 * this is exact. Directives before a marker stay with the document they introduce.
 */
function chunksOf(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  const lines = text.split('\n');
  let start = 0;
  let prefixOnly = true;
  for (let i = 0; i <= lines.length; i++) {
    const line = lines[i];
    if (i === lines.length || (DOCUMENT_START.test(line) && !prefixOnly)) {
      if (i > start) {
        chunks.push({ text: lines.slice(start, i).join('\n'), firstLine: start + 1 });
      }
      start = i;
      prefixOnly = true;
      if (i === lines.length) {
        break;
      }
    }
    // Directives, comments and blank lines before a document belong to it.
    if (prefixOnly && !/^(?:%|#|\s*$)/.test(line) && !(DOCUMENT_START.test(line) && /^---\s*(?:#.*)?$/.test(line) && i === start)) {
      prefixOnly = false;
    }
  }
  return chunks;
}

/** The data of the documents of one chunk, and the keys it repeats. */
function loadChunk(chunk: Chunk, file: string): { documents: unknown[]; duplicates: DuplicateKey[] } {
  let duplicates: DuplicateKey[] = [];
  let json = false;
  let reindented = false;
  for (;;) {
    try {
      return { documents: jsyaml.loadAll(chunk.text, undefined, { schema: SCHEMA, json }), duplicates };
    } catch (e) {
      if (!(e instanceof jsyaml.YAMLException)) {
        throw new InputError(file, chunk.firstLine, `invalid YAML: ${(e as Error).message}`);
      }
      const mark = (e as any).mark as { line: number; column: number } | undefined;
      const reason = (e as any).reason as string ?? e.message;
      if (!json && /duplicated mapping key/.test(reason)) {
        // Go's decoder keeps the last value; read it so, and report every repeated key.
        json = true;
        duplicates = duplicateKeysOf(chunk);
        continue;
      }
      if (!reindented) {
        reindented = true;
        const fixed = indentFlowContinuations(chunk.text);
        if (fixed !== chunk.text) {
          chunk.text = fixed;
          continue;
        }
      }
      throw new InputError(file, mark !== undefined ? chunk.firstLine + mark.line : chunk.firstLine, `invalid YAML: ${reason}`);
    }
  }
}

/**
 * Go's decoder reads a plain or quoted scalar inside `[...]` or `{...}` that continues on a line
 * less indented than its block (even at column 0); js-yaml and `yaml` do not. This indents such
 * lines past the bracket that opened the collection: the value and the line count stay the same,
 * only columns change. The text as it was when no line needs it.
 */
export function indentFlowContinuations(text: string): string {
  const lines = text.split('\n');
  let depth = 0;
  let quote: string | undefined;
  let openerColumn = 0;
  let changed = false;
  // The indentation of a line that starts a block scalar (`key: |`); its content is text.
  let blockScalarOf: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    const indent = line.length - line.trimStart().length;
    if (blockScalarOf !== undefined) {
      if (line.trim() === '' || indent > blockScalarOf) {
        continue;
      }
      blockScalarOf = undefined;
    }
    if (depth > 0 || quote !== undefined) {
      if (line.trim() !== '' && indent <= openerColumn) {
        line = ' '.repeat(openerColumn + 1) + line.trimStart();
        lines[i] = line;
        changed = true;
      }
    } else if (/(?:^|\s|:)[|>][-+0-9]*\s*(?:#.*)?$/.test(line) && /^\s*(?:-\s+)*(?:[^\s#][^#]*?:\s+|-\s+)[|>]/.test(line)) {
      blockScalarOf = indent;
      continue;
    }
    for (let j = 0; j < line.length; j++) {
      const c = line[j];
      if (quote !== undefined) {
        if (c === quote) {
          quote = undefined;
        }
      } else if ((c === '"' || c === '\'') && (j === 0 || /[\s[{,:]/.test(line[j - 1]))) {
        quote = c;
      } else if (c === '#' && (j === 0 || /\s/.test(line[j - 1]))) {
        break;
      } else if (c === '[' || c === '{') {
        // Outside a flow collection, a bracket opens one only where a value starts.
        if (depth === 0 && !/^\s*(?:-\s+)*(?:[^\s#][^#]*?:\s+)?$/.test(line.slice(0, j))) {
          continue;
        }
        if (depth === 0) {
          openerColumn = j;
        }
        depth++;
      } else if ((c === ']' || c === '}') && depth > 0) {
        depth--;
      }
    }
    // A quote left open outside a flow collection is a multi-line scalar, not ours to indent.
    if (depth === 0) {
      quote = undefined;
    }
  }
  return changed ? lines.join('\n') : text;
}

/** Every repeated key of a chunk, with its line, from `yaml`'s checks. */
function duplicateKeysOf(chunk: Chunk): DuplicateKey[] {
  const lineCounter = new LineCounter();
  const found: DuplicateKey[] = [];
  const fixed = indentFlowContinuations(chunk.text);
  for (const doc of parseAllDocuments(fixed, { lineCounter, version: '1.1', uniqueKeys: true }) as Document[]) {
    for (const error of doc.errors) {
      if (error.code === 'DUPLICATE_KEY') {
        const key = /^[^:\n]*/.exec(fixed.slice(error.pos[0]))![0].trim().replace(/^["']|["']$/g, '');
        found.push({ key, line: chunk.firstLine + lineCounter.linePos(error.pos[0]).line - 1 });
      }
    }
  }
  return found;
}

/**
 * Finds a field's line in a chunk. Block-style YAML, which is nearly all of what people and
 * renderers write, is read by indentation, line by line, without building anything; anything else
 * (flow collections, merge keys, complex keys) by `yaml`'s syntax tree, built on first use.
 */
// A mapping entry's line: a quoted or plain key, then `:` and a space or the end.
const KEY_LINE = /^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^\s#'"{[\]}&*!|>%@`?,-][^#:]*?|-[^\s#:][^#:]*?))\s*:(?:\s|$)/;

/** A plain key as the data has it (`on` is the key "true" in YAML 1.1); undefined for numbers, which the tree resolves. */
function plainKey(key: string): string | undefined {
  if (YAML11_BOOL.resolve(key)) {
    return String(YAML11_BOOL.construct(key));
  }
  if (/^(?:~|null|Null|NULL)$/.test(key)) {
    return 'null';
  }
  return /^[-+.]?(?:\d|\.(?:inf|Inf|INF|nan|NaN|NAN)$)/.test(key) ? undefined : key;
}

class Lines {
  private documents?: Document[];
  private readonly lineCounter = new LineCounter();
  private lines?: string[];
  private fixedText?: string;
  constructor(private readonly chunk: Chunk, private readonly documentCount: number) {}

  /** The chunk with flow continuations indented (js-yaml may have read it without), as both readers need it. */
  private text(): string {
    return this.fixedText ??= indentFlowContinuations(this.chunk.text);
  }

  /** The line of the field at `fieldPath` in the chunk's `index`th document, or of its nearest present parent. */
  public lineOf(index: number, fieldPath: ReadonlyArray<string | number>, fallback: number): number {
    const byIndentation = index === 0 && this.documentCount === 1 ? this.scan(fieldPath) : undefined;
    return byIndentation !== undefined ? this.chunk.firstLine + byIndentation : this.fromTree(index, fieldPath, fallback);
  }

  /**
   * The 0-based line in the chunk, or undefined when the block structure does not say. A level is
   * the range of lines [start, end) of a mapping or a sequence item; `first` is the column where
   * the level's first line starts (after a sequence item's `- `).
   */
  private scan(fieldPath: ReadonlyArray<string | number>): number | undefined {
    const lines = this.lines ??= this.text().split('\n');
    const isContent = (l: string) => !/^\s*(?:#.*)?$/.test(l) && !/^(?:---|\.\.\.)(?:\s|$)/.test(l);
    const indentOf = (l: string) => l.length - l.trimStart().length;
    let start = 0;
    while (start < lines.length && !isContent(lines[start])) {
      start++;
    }
    let end = lines.length;
    let firstColumn = start < lines.length ? indentOf(lines[start]) : 0;
    let found = -1;
    for (let depth = 0; depth < fieldPath.length; depth++) {
      const key = fieldPath[depth];
      const isItem = (i: number, column: number) => /^-(?:\s|$)/.test(lines[i].slice(column));
      // The level's entries: its lines at its indentation. In a mapping, `- ` lines at that column
      // are a key's sequence written at the key's own indentation, not entries.
      const entries: Array<{ line: number; column: number }> = [];
      for (let i = start; i < end; i++) {
        if (!isContent(lines[i])) {
          continue;
        }
        const column = i === start ? firstColumn : indentOf(lines[i]);
        if (column < firstColumn) {
          return undefined;
        }
        if (column === firstColumn && (typeof key === 'number' || !isItem(i, column))) {
          entries.push({ line: i, column });
        }
      }
      const text = (e: { line: number; column: number }) => lines[e.line].slice(e.column);
      let entry: { line: number; column: number } | undefined;
      if (typeof key === 'number') {
        if (entries.some((e) => !isItem(e.line, e.column))) {
          return undefined;
        }
        entry = entries[key];
      } else {
        for (const e of entries) {
          const m = KEY_LINE.exec(text(e));
          if (!m || m[3] === '<<') {
            // A flow mapping, a merge key, a complex key: leave it to the tree.
            return undefined;
          }
          const name = m[1] ?? m[2]?.replace(/''/g, '\'') ?? plainKey(m[3]);
          if (name === undefined) {
            return undefined;
          }
          if (name === String(key)) {
            // The last of duplicate keys counts.
            entry = e;
          }
        }
      }
      if (entry === undefined) {
        // Absent from a level read in full: the parent's line is the answer.
        return found === -1 ? start : found;
      }
      found = entry.line;
      if (depth === fieldPath.length - 1) {
        if (typeof key === 'number') {
          // An item's line is where its value starts: after the dash, or on the next line.
          const afterDash = text(entry).slice(1).trim();
          if (/^[&!]/.test(afterDash)) {
            return undefined;
          }
          if (afterDash === '' || afterDash.startsWith('#')) {
            let i = entry.line + 1;
            while (i < end && !isContent(lines[i])) {
              i++;
            }
            return i < end ? i : found;
          }
        }
        return found;
      }
      // The next level: the lines up to the next entry.
      const next = entries.indexOf(entry) + 1;
      end = next < entries.length ? entries[next].line : end;
      const rest = typeof key === 'number' ? text(entry).slice(1) : text(entry).slice(KEY_LINE.exec(text(entry))![0].length - 1).replace(/^:/, '');
      if (rest.trim() !== '' && !rest.trim().startsWith('#')) {
        if (typeof key === 'number') {
          // `- name: x`: the item's mapping starts on the dash's line.
          firstColumn = entry.column + 1 + (rest.length - rest.trimStart().length);
          start = entry.line;
          if (isItem(start, firstColumn) || /^[[{&*!|>]/.test(rest.trim())) {
            return /^[[{&*!-]/.test(rest.trim()) ? undefined : found;
          }
          continue;
        }
        // An inline value: a scalar has no fields; a flow collection or an anchor is the tree's.
        return /^[[{&*!]/.test(rest.trim()) ? undefined : found;
      }
      start = entry.line + 1;
      while (start < end && !isContent(lines[start])) {
        start++;
      }
      if (start >= end) {
        return found;
      }
      firstColumn = indentOf(lines[start]);
      if (firstColumn < entry.column || (firstColumn === entry.column && !isItem(start, firstColumn))) {
        return found;
      }
    }
    return found === -1 ? undefined : found;
  }

  private fromTree(index: number, fieldPath: ReadonlyArray<string | number>, fallback: number): number {
    if (this.documents === undefined) {
      try {
        this.documents = parseAllDocuments(this.text(), { lineCounter: this.lineCounter, version: '1.1', uniqueKeys: false }) as Document[];
      } catch {
        this.documents = [];
      }
      if (!Array.isArray(this.documents)) {
        this.documents = [];
      }
    }
    let current: unknown = this.documents[index]?.contents;
    let line = fallback;
    for (const key of fieldPath) {
      let next: any;
      let at: any;
      if (isMap(current)) {
        // The last of duplicate keys is the one that counts.
        const pair: any = [...current.items].reverse().find((item: any) => String(item.key?.value ?? item.key) === String(key));
        next = pair?.value;
        at = pair?.key?.range ?? next?.range;
      } else if (isSeq(current) && typeof key === 'number') {
        next = current.items[key];
        at = next?.range;
      }
      if (next === undefined || next === null) {
        break;
      }
      if (at) {
        line = this.chunk.firstLine + this.lineCounter.linePos(at[0]).line - 1;
      }
      current = next;
    }
    return line;
  }
}

/** The first line of a chunk with content: where its document's mapping starts. */
function contentLine(chunk: Chunk): number {
  const lines = chunk.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].replace(/^---\s*/, '');
    if (!/^(?:%|#|\s*$)/.test(l) && !/^\.\.\.\s*$/.test(l)) {
      return chunk.firstLine + i;
    }
  }
  return chunk.firstLine;
}

/** Parses one YAML stream (multi-document, `List` objects expanded) into Kubernetes objects. */
export function parseManifests(text: string, file: string, firstOrder: number = 0): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const chunk of chunksOf(text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n'))) {
    const { documents, duplicates } = loadChunk(chunk, file);
    const lines = new Lines(chunk, documents.length);
    const firstLine = contentLine(chunk);
    const helmSource = /^# Source: (.+)$/m.exec(chunk.text)?.[1]?.trim();
    documents.forEach((data, index) => {
      if (!isKubernetesObject(data)) {
        return;
      }
      const items = (data as any).items;
      const lineOfDocument = (fieldPath: ReadonlyArray<string | number>) => lines.lineOf(index, fieldPath, firstLine);
      if (/List$/.test((data as any).kind) && Array.isArray(items)) {
        items.forEach((item, i) => {
          if (isKubernetesObject(item)) {
            const itemLine = lineOfDocument(['items', i]);
            objects.push(toObject(item, file, firstOrder + objects.length,
              (fieldPath) => lines.lineOf(index, ['items', i, ...fieldPath], itemLine), itemLine, [], helmSource));
          }
        });
      } else {
        const inDocument = documents.length === 1 ? duplicates : [];
        objects.push(toObject(data, file, firstOrder + objects.length, lineOfDocument, firstLine, inDocument, helmSource));
      }
    });
  }
  return objects;
}

/** Reads every input in order; `-` reads `stdin`, which the caller supplies. Throws on the first unusable file. */
export function loadManifests(files: readonly string[], readStdin: () => string): K8sObject[] {
  const { objects, errors } = loadManifestsReportingErrors(files, readStdin);
  if (errors.length > 0) {
    throw errors[0];
  }
  return objects;
}

/** Reads every input in order, keeping the objects of the files that parse and the errors of those that do not. */
export function loadManifestsReportingErrors(files: readonly string[], readStdin: () => string): { objects: K8sObject[]; errors: InputError[] } {
  const objects: K8sObject[] = [];
  const errors: InputError[] = [];
  for (const file of files) {
    const name = file === '-' ? STDIN : file;
    try {
      let text: string;
      try {
        text = file === '-' ? readStdin() : fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new InputError(name, undefined, `cannot read: ${(e as Error).message}`);
      }
      objects.push(...parseManifests(text, name, objects.length));
    } catch (e) {
      if (!(e instanceof InputError)) {
        throw e;
      }
      errors.push(e);
    }
  }
  return { objects, errors };
}

function isKubernetesObject(data: unknown): boolean {
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    && typeof (data as any).kind === 'string' && typeof (data as any).apiVersion === 'string';
}

function toObject(raw: any, file: string, order: number, lineOf: (path: ReadonlyArray<string | number>) => number,
  line: number, duplicateKeys: readonly DuplicateKey[], helmSource?: string): K8sObject {
  const metadata = typeof raw.metadata === 'object' && raw.metadata !== null ? raw.metadata : {};
  const annotations: { [key: string]: string } = {};
  const rawAnnotations = typeof metadata.annotations === 'object' && metadata.annotations !== null ? metadata.annotations : {};
  for (const [key, value] of Object.entries(rawAnnotations)) {
    annotations[key] = asText(value);
  }
  return {
    apiVersion: raw.apiVersion,
    kind: raw.kind,
    name: asText(metadata.name),
    namespace: typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined,
    annotations,
    raw,
    source: { file, line },
    order,
    duplicateKeys,
    helmSource,
    lineOf,
  };
}
