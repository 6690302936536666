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

// `$NAME`, `${NAME}` or `${NAME...}` that a shell would expand, after any `$$` (Kubernetes' escape
// for a literal `$`) and `$(` (Kubernetes' own `$(NAME)`).
const EXPANSION = /\$(?:\$|\(|\{[A-Za-z_][A-Za-z0-9_]*[^}]*\}?|[A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * The first `$NAME` or `${NAME}` in `arg`, an element of an exec-form command or its arguments,
 * or undefined when there is none.
 *
 * Kubernetes hands such an element to the program as it is: only a shell expands `$NAME`, and the
 * kubelet expands `$(NAME)` alone, and only for variables the container declares (`env`,
 * `envFrom`). `--env $NODE_ENV` passes the six characters `$NODE_ENV`. `$$` is Kubernetes' escape
 * for a literal `$`, so `$$NAME` is meant literally and not reported.
 */
export function shellOnlyExpansion(arg: string): string | undefined {
  for (const [token] of arg.matchAll(EXPANSION)) {
    if (token !== '$$' && token !== '$(') {
      return token;
    }
  }
  return undefined;
}

/**
 * Whether `script` holds a carriage return: a script written with Windows line endings, which a
 * shell reads as part of each line (`set -euo pipefail\r` fails with "invalid option").
 */
export function hasCarriageReturn(script: string): boolean {
  return script.includes('\r');
}

// The shells an exec-form command may start with `-c`, by their executable's base name.
const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh', 'busybox']);

/**
 * The index, in `words` (a container's command followed by its args), of the script that a shell
 * started with `-c` runs, or -1 when `words` does not start a shell that way. `busybox sh -c` counts.
 */
export function shellScriptIndex(words: readonly string[]): number {
  let i = 0;
  if (typeof words[0] === 'string' && words[0].split('/').pop() === 'busybox' && words[1] === 'sh') {
    i = 1;
  }
  if (typeof words[i] !== 'string' || !SHELLS.has(words[i].split('/').pop()!)) {
    return -1;
  }
  // Options up to the script: `-c`, `-ec`, `-euc`, `-o pipefail -c`.
  for (let j = i + 1; j < words.length; j++) {
    const word = words[j];
    if (typeof word !== 'string' || !word.startsWith('-')) {
      return -1;
    }
    if (/^-[a-z]*c[a-z]*$/.test(word)) {
      return j + 1 < words.length ? j + 1 : -1;
    }
    if (word === '-o' || word === '+o') {
      j++;
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
      const name = /[A-Za-z_][A-Za-z0-9_]*/.exec(token)![0];
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
