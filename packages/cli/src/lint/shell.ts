/* How lint reads the shell scripts of waiters (`sh -c '...'`): with the grammar of POSIX sh and
 * bash, from mvdan-sh (the parser of shfmt, compiled to JavaScript), so that a redirection, a
 * here-document, a pipe or a keyword is never taken for a word of a command. The parsed script is
 * then walked as the shell would run it, as far as the text tells: variables assigned earlier or set
 * in the container's env are expanded, a function's body runs with its call site's arguments, a
 * loop's body runs once for each word of a literal list. What the text cannot tell (the output of a
 * `$(...)`, a variable set elsewhere, a loop over the output of a command) stays as it is written,
 * `$1` or `$(kubectl get jobs -o name)`: visibly unresolved, never a name. */

import { shellScriptIndex } from 'cdk8s-migrated-service/lib/shared/command';

/** A variable's value as the script would see it; undefined when the input does not say. */
export type Lookup = (name: string) => string | undefined;

/** Whether a word was left as written because the script's text does not tell its value. */
export function isUnresolved(word: string): boolean {
  return /\$|`/.test(word);
}

/**
 * The simple commands a container runs: its `command` + `args` as one argv, and, when that argv is
 * a shell with `-c` (also inside a script: `timeout 60 sh -c '...'`), every command its script runs.
 * `env` gives the container's own variables.
 */
export function commandsOf(argv: readonly string[], env: Lookup = () => undefined): string[][] {
  const commands: string[][] = [[...argv]];
  const script = shellScriptOf(argv);
  if (script !== undefined) {
    commands.push(...scriptCommands(script, env, 0));
  }
  return commands;
}

/** The script of `sh -c SCRIPT ...`, `bash -ec SCRIPT`, `busybox sh -c SCRIPT`, `/bin/sh -c`. */
function shellScriptOf(argv: readonly string[]): string | undefined {
  const index = shellScriptIndex(argv);
  return index === -1 ? undefined : argv[index];
}

/** The commands a script runs, as argv words. */
export function scriptCommands(script: string, env: Lookup = () => undefined, depth = 0): string[][] {
  let file: any;
  try {
    file = parser().Parse(script, 'script');
  } catch {
    // Not a script the shell would run either: read its words as well as plain text tells them.
    return splitShellScript(script);
  }
  const run = new Run(env, depth);
  run.statements(file.Stmts, { positional: undefined });
  run.uncalledFunctions();
  return run.commands;
}

let shellParser: any;
// The rules ask about one container more than once (is it a waiter, does it wait for a rollout,
// does its Job migrate): a script is parsed once. The tree is only read, never changed.
const parsed = new Map<string, any>();
const MAX_PARSED = 4096;
function parser(): any {
  if (shellParser === undefined) {
    // Loaded on first use: most manifests hold no shell script.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sh = require('mvdan-sh');
    shellParser = {
      syntax: sh.syntax,
      Parse: (text: string, name: string) => {
        let file = parsed.get(text);
        if (file === undefined) {
          file = plainTree(sh.syntax, sh.syntax.NewParser().Parse(text, name), text);
          if (parsed.size >= MAX_PARSED) {
            parsed.delete(parsed.keys().next().value!);
          }
          parsed.set(text, file);
        }
        return file;
      },
    };
  }
  return shellParser;
}

/**
 * The parsed tree as plain objects, with the fields the walk reads. The parser's objects wrap Go
 * values, and each property read converts (tens of microseconds): the tree is read once, here.
 */
function plainTree(syntax: any, root: any, source: string): any {
  const plain = (node: any): any => {
    if (node === null || node === undefined) {
      return undefined;
    }
    const type: string = syntax.NodeType(node);
    const list = (xs: any): any[] => (xs ?? []).map(plain);
    const span = (): string => source.slice(node.Pos().Offset(), node.End().Offset());
    const name = (lit: any) => (lit ? { Value: lit.Value } : undefined);
    switch (type) {
      case 'File':
      case 'Block':
      case 'Subshell':
        return { type, Stmts: list(node.Stmts) };
      case 'Stmt':
        return { type, Cmd: plain(node.Cmd), Redirs: (node.Redirs ?? []).map((r: any) => ({ Word: plain(r.Word) })) };
      case 'CallExpr':
        return { type, Assigns: list(node.Assigns), Args: list(node.Args) };
      case 'Assign':
        return { type, Naked: node.Naked, Append: node.Append, Name: name(node.Name), Value: plain(node.Value) };
      case 'BinaryCmd':
        return { type, X: plain(node.X), Y: plain(node.Y) };
      case 'IfClause':
        return { type, Cond: list(node.Cond), Then: list(node.Then), Else: plain(node.Else) };
      case 'WhileClause':
        return { type, Cond: list(node.Cond), Do: list(node.Do) };
      case 'ForClause':
        return { type, Loop: plain(node.Loop), Do: list(node.Do) };
      case 'WordIter':
        return { type, Name: name(node.Name), InValue: node.InValue, Items: list(node.Items) };
      case 'CaseClause':
        return { type, Word: plain(node.Word), Items: (node.Items ?? []).map((item: any) => ({ Stmts: list(item.Stmts) })) };
      case 'FuncDecl':
        return { type, Name: name(node.Name), Body: plain(node.Body) };
      case 'DeclClause':
        return { type, Args: list(node.Args) };
      case 'TimeClause':
      case 'CoprocClause':
        return { type, Stmt: plain(node.Stmt) };
      case 'Word':
      case 'DblQuoted':
        return { type, Parts: list(node.Parts) };
      case 'Lit':
      case 'SglQuoted':
        return { type, Value: node.Value };
      case 'ParamExp':
        return { type, text: span() };
      case 'CmdSubst':
      case 'ProcSubst':
        return { type, Stmts: list(node.Stmts), text: span() };
      default: {
        // [[ ... ]], (( ... )), let, $((...)), a C-style for: kept as text, with the commands of their substitutions.
        const substitutions: any[][] = [];
        syntax.Walk(node, (n: any) => {
          if (n !== null && n !== undefined && (syntax.NodeType(n) === 'CmdSubst' || syntax.NodeType(n) === 'ProcSubst')) {
            substitutions.push(list(n.Stmts));
            return false;
          }
          return true;
        });
        return { type, text: span(), substitutions };
      }
    }
  };
  return plain(root);
}

interface Frame {
  /** A function's arguments; undefined at the top of the script (the shell's own are not known). */
  readonly positional: readonly string[] | undefined;
}

// Enough to follow a waiter's helpers and loops, never so much that a script makes lint slow.
const MAX_CALL_DEPTH = 6;
const MAX_LOOP_WORDS = 16;
const MAX_COMMANDS = 2000;

/** One walk of a parsed script. */
class Run {
  public readonly commands: string[][] = [];
  private readonly vars = new Map<string, string | undefined>();
  private readonly functions = new Map<string, any>();
  private readonly called = new Set<string>();
  private calls = 0;

  constructor(private readonly env: Lookup, private readonly depth: number) {}

  public statements(stmts: readonly any[] | null | undefined, frame: Frame): void {
    for (const stmt of stmts ?? []) {
      this.statement(stmt, frame);
    }
  }

  public uncalledFunctions(): void {
    // A function nobody calls in the text may still be what runs (a `trap`, an `eval`): its
    // commands count, with arguments the text does not tell.
    for (const [name, body] of this.functions) {
      if (!this.called.has(name)) {
        this.called.add(name);
        this.statement(body, { positional: undefined });
      }
    }
  }

  private statement(stmt: any, frame: Frame): void {
    if (stmt === null || stmt === undefined || this.commands.length > MAX_COMMANDS) {
      return;
    }
    // A redirection's target may be a command substitution; its here-document is data, not commands.
    for (const redirect of stmt.Redirs ?? []) {
      if (redirect.Word) {
        this.word(redirect.Word, frame);
      }
    }
    this.command(stmt.Cmd, frame);
  }

  private command(cmd: any, frame: Frame): void {
    if (cmd === null || cmd === undefined) {
      return;
    }
    switch (cmd.type) {
      case 'CallExpr':
        return this.call(cmd, frame);
      case 'BinaryCmd':
        this.statement(cmd.X, frame);
        return this.statement(cmd.Y, frame);
      case 'Block':
      case 'Subshell':
        return this.statements(cmd.Stmts, frame);
      case 'IfClause':
        for (let clause = cmd; clause; clause = clause.Else) {
          this.statements(clause.Cond, frame);
          this.statements(clause.Then, frame);
        }
        return;
      case 'WhileClause':
        this.statements(cmd.Cond, frame);
        return this.statements(cmd.Do, frame);
      case 'ForClause':
        return this.forLoop(cmd, frame);
      case 'CaseClause':
        this.word(cmd.Word, frame);
        for (const item of cmd.Items ?? []) {
          this.statements(item.Stmts, frame);
        }
        return;
      case 'FuncDecl':
        this.functions.set(cmd.Name.Value, cmd.Body);
        return;
      case 'DeclClause':
        // export, local, readonly, declare, typeset: assignments.
        for (const assign of cmd.Args ?? []) {
          this.assign(assign, frame);
        }
        return;
      case 'TimeClause':
      case 'CoprocClause':
        return this.statement(cmd.Stmt, frame);
      default:
        // [[ ... ]], (( ... )), let: only their command substitutions run commands.
        return this.substitutionsIn(cmd, frame);
    }
  }

  private call(cmd: any, frame: Frame): void {
    for (const assign of cmd.Assigns ?? []) {
      this.assign(assign, frame);
    }
    const words = (cmd.Args ?? []).flatMap((w: any) => this.fields(w, frame));
    if (words.length === 0) {
      return;
    }
    const body = this.functions.get(words[0]);
    if (body !== undefined) {
      this.called.add(words[0]);
      if (this.calls < MAX_CALL_DEPTH) {
        this.calls++;
        this.statement(body, { positional: words.slice(1) });
        this.calls--;
      }
      return;
    }
    this.commands.push(words);
    const inner = shellScriptOf(words);
    if (inner !== undefined && !isUnresolved(inner) && this.depth < 4) {
      this.commands.push(...scriptCommands(inner, (name) => this.lookup(name), this.depth + 1));
    }
  }

  private assign(assign: any, frame: Frame): void {
    if (assign.Naked || !assign.Name) {
      return;
    }
    const value = assign.Value ? this.word(assign.Value, frame) : '';
    // A value the text does not tell makes the variable unknown, not its source text.
    this.vars.set(assign.Name.Value, isUnresolved(value) ? undefined : (assign.Append ? (this.lookup(assign.Name.Value) ?? '') : '') + value);
  }

  private forLoop(cmd: any, frame: Frame): void {
    const loop = cmd.Loop;
    if (loop?.type !== 'WordIter') {
      this.substitutionsIn(loop, frame);
      return this.statements(cmd.Do, frame);
    }
    const name = loop.Name.Value;
    const items: string[] = loop.InValue || (loop.Items ?? []).length > 0
      ? (loop.Items ?? []).flatMap((w: any) => this.fields(w, frame))
      : [...(frame.positional ?? ['$@'])];
    const literal = items.length > 0 && items.length <= MAX_LOOP_WORDS && !items.some(isUnresolved);
    for (const item of literal ? items : [undefined]) {
      this.vars.set(name, item);
      this.statements(cmd.Do, frame);
    }
  }

  private substitutionsIn(node: any, frame: Frame): void {
    for (const stmts of node?.substitutions ?? []) {
      this.statements(stmts, frame);
    }
  }

  private lookup(name: string): string | undefined {
    return this.vars.has(name) ? this.vars.get(name) : this.env(name);
  }

  /** A word as one string (no field splitting), expansions the text does not tell left as written. */
  private word(word: any, frame: Frame): string {
    return this.segments(word.Parts ?? [], frame, false).map((s) => s.text).join('');
  }

  /** A word as the fields it expands to: unquoted expansions split at blanks, `"$@"` into the arguments. */
  private fields(word: any, frame: Frame): string[] {
    const fields: string[] = [];
    let current: string | undefined;
    for (const segment of this.segments(word.Parts ?? [], frame, false)) {
      if (segment.fields !== undefined) {
        segment.fields.forEach((f, i) => {
          current = i === 0 ? (current ?? '') + f : f;
          if (i < segment.fields!.length - 1) {
            fields.push(current);
            current = undefined;
          }
        });
        continue;
      }
      const pieces = segment.split ? segment.text.split(/[ \t\n]+/) : [segment.text];
      pieces.forEach((piece, i) => {
        if (i > 0) {
          if (current !== undefined && current !== '') {
            fields.push(current);
          }
          current = undefined;
        }
        if (piece !== '' || !segment.split) {
          current = (current ?? '') + piece;
        }
      });
    }
    if (current !== undefined) {
      fields.push(current);
    }
    return fields;
  }

  private segments(parts: readonly any[], frame: Frame, quoted: boolean): Segment[] {
    const out: Segment[] = [];
    for (const part of parts) {
      switch (part.type) {
        case 'Lit':
          out.push({
            text: quoted ? part.Value.replace(/\\([$`"\\\n])/g, (_m: string, c: string) => (c === '\n' ? '' : c))
              : part.Value.replace(/\\\n/g, '').replace(/\\(.)/g, '$1'),
          });
          break;
        case 'SglQuoted':
          out.push({ text: part.Value });
          break;
        case 'DblQuoted':
          out.push(...this.segments(part.Parts ?? [], frame, true).map((s) => ({ ...s, split: false })));
          break;
        case 'ParamExp':
          out.push(this.parameter(part, frame, quoted));
          break;
        case 'CmdSubst':
        case 'ProcSubst':
          // Its commands run; its output is not in the text.
          this.statements(part.Stmts, frame);
          out.push({ text: part.text });
          break;
        default:
          out.push({ text: part.text });
      }
    }
    return out;
  }

  private parameter(part: any, frame: Frame, quoted: boolean): Segment {
    const source: string = part.text;
    const simple = /^\$\{?([A-Za-z_][A-Za-z0-9_]*|[0-9]|[@*])\}?$/.exec(source);
    const withDefault = /^\$\{([A-Za-z_][A-Za-z0-9_]*|[0-9])(:?[-=])([^$`]*)\}$/.exec(source);
    const name = simple?.[1] ?? withDefault?.[1];
    if (name === undefined) {
      return { text: source };
    }
    if (name === '@' || name === '*') {
      if (frame.positional === undefined) {
        return { text: source };
      }
      return quoted && name === '@' ? { text: '', fields: [...frame.positional] } : { text: frame.positional.join(' '), split: !quoted };
    }
    let value = /^[0-9]$/.test(name)
      ? (frame.positional === undefined ? undefined : frame.positional[Number(name) - 1] ?? '')
      : this.lookup(name);
    if (withDefault && (value === undefined ? this.known(name, frame) === false : withDefault[2].startsWith(':') && value === '')) {
      value = withDefault[3].replace(/^["']|["']$/g, '');
    }
    return value === undefined ? { text: source } : { text: value, split: !quoted };
  }

  /** Whether the text tells that a variable is unset: it is not assigned in the script, the env or the arguments. */
  private known(name: string, frame: Frame): boolean {
    if (/^[0-9]$/.test(name)) {
      return frame.positional !== undefined;
    }
    return this.vars.has(name) || this.env(name) !== undefined;
  }
}

interface Segment {
  readonly text: string;
  /** An unquoted expansion, split into fields at blanks. */
  readonly split?: boolean;
  /** `"$@"`: one field per argument. */
  readonly fields?: readonly string[];
}

/**
 * The fallback for text the shell parser rejects (which the shell would reject as well): words
 * with quotes and backslashes resolved, split into simple commands at `;`, `&&`, `||`, `|`, `&` and
 * newlines, redirections dropped.
 */
export function splitShellScript(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = (): void => {
    // A redirection (`2>/dev/null`, `>&2`, `&>log`) is no word of the command.
    if (inWord && !/^[0-9]*(<|>|&>)/.test(word)) {
      words.push(word);
    }
    word = '';
    inWord = false;
  };
  const endCommand = (): void => {
    endWord();
    if (words.length > 0) {
      commands.push(words);
    }
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i];
    if (c === '\'') {
      const end = script.indexOf('\'', i + 1);
      word += script.slice(i + 1, end === -1 ? script.length : end);
      inWord = true;
      i = end === -1 ? script.length : end;
    } else if (c === '"') {
      inWord = true;
      for (i++; i < script.length && script[i] !== '"'; i++) {
        if (script[i] === '\\' && i + 1 < script.length && '"\\$`'.includes(script[i + 1])) {
          i++;
        }
        word += script[i];
      }
    } else if (c === '\\') {
      if (script[i + 1] === '\n') {
        i++;
      } else if (i + 1 < script.length) {
        word += script[++i];
        inWord = true;
      }
    } else if (c === '#' && !inWord) {
      const end = script.indexOf('\n', i);
      i = (end === -1 ? script.length : end) - 1;
    } else if ((c === '>' || c === '<') && inWord && /^[0-9]*$/.test(word)) {
      // `2>` starts a redirection.
      word += c;
    } else if (c === '&' && (script[i + 1] === '>' || (inWord && /^[0-9]*[<>]$/.test(word)))) {
      word += c;
      inWord = true;
    } else if (c === ';' || c === '&' || c === '|' || c === '\n') {
      endCommand();
    } else if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}

export function basename(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}
