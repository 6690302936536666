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
