import * as fs from 'fs';
import * as path from 'path';
import { isMap, isSeq, LineCounter, Node, parseAllDocuments } from 'yaml';
import { text as asText } from './model';

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

/** Parses one YAML stream (multi-document, `List` objects expanded) into Kubernetes objects. */
export function parseManifests(text: string, file: string, firstOrder: number = 0): K8sObject[] {
  const lineCounter = new LineCounter();
  // Kubernetes reads YAML 1.1 (sigs.k8s.io/yaml): `yes`, `on` and friends are booleans there.
  const documents = parseAllDocuments(text, { lineCounter, version: '1.1', prettyErrors: true });
  const objects: K8sObject[] = [];
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  const docs = Array.isArray(documents) ? documents : [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0]?.line;
      throw new InputError(file, line, `invalid YAML: ${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      throw new InputError(file, doc.contents?.range ? lineAt(doc.contents.range[0]) : undefined, `invalid YAML: ${(e as Error).message}`);
    }
    const node = doc.contents;
    if (!isKubernetesObject(data) || !isMap(node)) {
      continue;
    }
    const items = (data as any).items;
    const itemsNode = node.get('items', true);
    if (/List$/.test((data as any).kind) && Array.isArray(items) && isSeq(itemsNode)) {
      items.forEach((item, i) => {
        const itemNode = itemsNode.items[i];
        if (isKubernetesObject(item) && isMap(itemNode)) {
          objects.push(toObject(item, itemNode as Node, file, firstOrder + objects.length, lineAt));
        }
      });
    } else {
      objects.push(toObject(data, node, file, firstOrder + objects.length, lineAt));
    }
  }
  return objects;
}

/** Reads every input in order; `-` reads `stdin`, which the caller supplies. */
export function loadManifests(files: readonly string[], readStdin: () => string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? readStdin() : fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new InputError(file === '-' ? STDIN : file, undefined, `cannot read: ${(e as Error).message}`);
    }
    objects.push(...parseManifests(text, file === '-' ? STDIN : file, objects.length));
  }
  return objects;
}

function isKubernetesObject(data: unknown): boolean {
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    && typeof (data as any).kind === 'string' && typeof (data as any).apiVersion === 'string';
}

function toObject(raw: any, node: Node, file: string, order: number, lineAt: (offset: number) => number): K8sObject {
  const metadata = typeof raw.metadata === 'object' && raw.metadata !== null ? raw.metadata : {};
  const objectLine = node.range ? lineAt(node.range[0]) : 1;
  const annotations: { [key: string]: string } = {};
  for (const [key, value] of Object.entries(metadata.annotations ?? {})) {
    annotations[key] = asText(value);
  }
  return {
    apiVersion: raw.apiVersion,
    kind: raw.kind,
    name: asText(metadata.name),
    namespace: typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined,
    annotations,
    raw,
    source: { file, line: objectLine },
    order,
    lineOf(fieldPath) {
      let current: unknown = node;
      let line = objectLine;
      for (const key of fieldPath) {
        if (!isMap(current) && !isSeq(current)) {
          break;
        }
        const next = (current as any).get(key, true);
        if (next === undefined || next === null) {
          break;
        }
        // For a mapping entry, the key's line is where a reader looks.
        const pair = isMap(current) ? current.items.find((item: any) => (item.key?.value ?? item.key) === key) : undefined;
        const keyNode: any = pair?.key;
        const range = keyNode?.range ?? next.range;
        if (range) {
          line = lineAt(range[0]);
        }
        current = next;
      }
      return line;
    },
  };
}
