/**
 * A container's program, as Kubernetes runs it: the constructs and lint judge a command by this
 * one implementation.
 *
 * Kubernetes starts `command[0]` (or, without `command`, the image's ENTRYPOINT, or the first of
 * `args` when the image has none) with `execve`, not through a shell: the whole string is the
 * executable's name. `['bundle exec rails db:migrate']` looks for a file called
 * `bundle exec rails db:migrate`, and the container fails with `executable file not found in $PATH`.
 * The arguments after it are handed over as they are, so `['sh', '-c', 'bundle exec rails db:migrate']`
 * is right: there the shell splits the words.
 */

// Shell syntax in a command line: split on whitespace, it would not mean what it says.
const SHELL_SYNTAX = /["'`$\\|&;<>()*?#~{}[\]]|^\s*\w+=/;

/** Whether `program`, run as a container's program, cannot be an executable's name: it holds whitespace. */
export function isUnsplitCommandLine(program: unknown): program is string {
  return typeof program === 'string' && /\s/.test(program);
}

/**
 * What a container that runs `command` (whose first element holds whitespace) should run instead:
 * the words of the first element followed by the rest, or the whole line through `sh -c` when it
 * is shell syntax (quotes, variables, pipes, `&&`) that only a shell reads.
 */
export function unsplitCommandFix(command: readonly string[]): string {
  const [program, ...rest] = command;
  const line = [program.trim(), ...rest.map(shellQuote)].join(' ');
  const throughShell = `run it through a shell: ${JSON.stringify(['sh', '-c', line])}`;
  if (SHELL_SYNTAX.test(program)) {
    return `It is shell syntax, which only a shell reads: ${throughShell}.`;
  }
  return `Split it into words: ${JSON.stringify([...program.trim().split(/\s+/), ...rest])}, or ${throughShell}.`;
}

/** Why Kubernetes cannot start `command`, whose first element holds whitespace, with the fix: one sentence for an error message. */
export function unsplitCommandProblem(command: readonly string[]): string {
  return `its first element ${JSON.stringify(command[0])} is the program, which Kubernetes starts without a shell: it looks for one executable `
    + `named with the spaces, and the container fails with "executable file not found in $PATH". ${unsplitCommandFix(command)}`;
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, '\'\\\'\'')}'`;
}

/**
 * The first shell-only variable reference (`$NODE_ENV`, `${NODE_ENV}`) in one element of an
 * exec-form command or argument list, or undefined when it has none.
 *
 * Kubernetes runs `command` and `args` without a shell. It expands only its own syntax, `$(VAR)`,
 * and only for variables declared in the container's `env`; `$$` writes a literal `$`. A `$VAR` or
 * `${VAR}` reaches the program as it is written: `['npx', 'knex', 'migrate:latest', '--env', '$NODE_ENV']`
 * migrates the environment literally named `$NODE_ENV`. (In the script of `sh -c`, the shell expands
 * them: callers do not ask about a shell's script.)
 */
export function shellOnlyExpansion(arg: string): string | undefined {
  for (let i = 0; i < arg.length; i++) {
    if (arg[i] !== '$') {
      continue;
    }
    const next = arg[i + 1];
    if (next === '$') {
      // Kubernetes' escape for a literal `$`: `$$VAR` is meant to stay as it is.
      i++;
      continue;
    }
    // `${NAME}`, `${NAME:-default}`, `${NAME#prefix}`...: not `${new Date()}`, which is JavaScript.
    const braced = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?[-=?+]|##?|%%?|\/\/?|:)[^}]*)?\}/.exec(arg.slice(i));
    if (braced) {
      return braced[0];
    }
    const bare = /^\$[A-Za-z_][A-Za-z0-9_]*/.exec(arg.slice(i));
    if (bare) {
      return bare[0];
    }
  }
  return undefined;
}

/** The variable a shell-only reference names: `NODE_ENV` for `$NODE_ENV` or `${NODE_ENV:-x}`. */
export function expansionVariable(expansion: string): string {
  return /^\$\{?([A-Za-z_][A-Za-z0-9_]*)/.exec(expansion)?.[1] ?? expansion;
}

/**
 * Why `expansion`, found in an exec-form command or argument, is passed literally, with the fix:
 * one sentence for an error message.
 */
export function shellOnlyExpansionProblem(expansion: string): string {
  const variable = expansionVariable(expansion);
  return `${expansion} is shell syntax, but Kubernetes runs the command without a shell and passes it literally `
    + `(it expands only $(VAR), and only for variables declared in the container's env). Write $(${variable}) with ${variable} `
    + `declared in env, or run the command through a shell (["sh", "-c", "..."]), where ${expansion} is expanded`;
}

/**
 * Whether a shell script holds a carriage return: written with Windows line endings, every line
 * ends in `\r`, which the shell reads as part of the last word (`set -euo pipefail\r` is an
 * invalid option, `exit 0\r` a bad number), and the script fails at run time.
 */
export function hasCarriageReturn(script: string): boolean {
  return script.includes('\r');
}

// The shells an exec-form command may start with `-c`, by their executable's base name.
const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'busybox', 'ksh', 'mksh']);

/**
 * The index, in `words` (a container's command followed by its args), of the script that a shell
 * started with `-c` runs, or -1 when `words` does not start a shell that way. The shell may follow a
 * wrapper (`tini --`, `/usr/bin/env`, `dumb-init`) in the first few words; `busybox sh -c` counts.
 */
export function shellScriptIndex(words: readonly string[]): number {
  const base = (word: unknown) => (typeof word === 'string' ? word.split('/').pop() ?? '' : '');
  const shell = words.findIndex((word) => SHELLS.has(base(word)));
  if (shell === -1 || shell > 3) {
    return -1;
  }
  const start = base(words[shell]) === 'busybox' ? shell + 2 : shell + 1;
  for (let i = start; i < words.length - 1; i++) {
    const word = words[i];
    if (typeof word !== 'string') {
      return -1;
    }
    if (/^-[a-z]*c[a-z]*$/.test(word)) {
      return i + 1;
    }
    if (word === '-o' || word === '+o') {
      // `bash -o pipefail -c ...`: the option's name.
      i++;
    } else if (!/^[-+]/.test(word)) {
      return -1;
    }
  }
  return -1;
}

/**
 * What is wrong with `words` (a container's command followed by its args), run without a shell, in
 * one sentence with the fix; undefined when nothing is. `words[index]` is the element at fault.
 */
export function shellOnlySyntaxProblem(words: readonly string[]): { index: number; problem: string } | undefined {
  const script = shellScriptIndex(words);
  if (script >= 0 && hasCarriageReturn(words[script])) {
    return {
      index: script,
      problem: 'the shell script has Windows line endings (\\r\\n): the shell reads each \\r as part of the line, '
        + 'so `set -euo pipefail` fails with "invalid option" and commands get a stray argument. Use \\n line endings '
        + '(e.g. `.replace(/\\r\\n/g, \'\\n\')`, or save the file with LF endings).',
    };
  }
  for (let index = 0; index < words.length; index++) {
    const token = index === script || typeof words[index] !== 'string' ? undefined : shellOnlyExpansion(words[index]);
    if (token !== undefined) {
      const name = expansionVariable(token);
      const line = words.map((word) => (shellOnlyExpansion(word) !== undefined ? `"${word.replace(/(["\\`])/g, '\\$1')}"` : shellQuote(word))).join(' ');
      return {
        index,
        problem: `${JSON.stringify(token)} reaches the program literally: Kubernetes starts the command without a shell, and expands only `
          + `$(NAME), for variables the container declares in env or envFrom. Write $(${name}) instead, or run it through a shell: `
          + `${JSON.stringify(['sh', '-c', `exec ${line}`])}.`,
      };
    }
  }
  return undefined;
}
