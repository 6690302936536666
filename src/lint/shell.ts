/**
 * Just enough of a POSIX shell to find the commands in a container's `sh -c` script: words with
 * quotes and backslashes resolved, split into simple commands at `;`, `&&`, `||`, `|`, `&` and
 * newlines. Expansions and redirections are left as they are.
 */
export function splitShellScript(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = (): void => {
    if (inWord) {
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

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'busybox']);

/**
 * The simple commands a container runs: its `command` + `args` as one argv, and, when that argv is
 * a shell with `-c`, every command of the script as well.
 */
export function commandsOf(argv: readonly string[]): string[][] {
  const commands: string[][] = [[...argv]];
  if (argv.length > 0 && SHELLS.has(basename(argv[0]))) {
    const start = basename(argv[0]) === 'busybox' ? 2 : 1;
    for (let i = start; i < argv.length - 1; i++) {
      if (/^-[a-z]*c[a-z]*$/.test(argv[i])) {
        commands.push(...scriptCommands(argv[i + 1], 0));
        break;
      }
    }
  }
  return commands;
}

/** A script's commands, and those of its command substitutions (`$(...)`, backquotes), which quotes would hide. */
function scriptCommands(script: string, depth: number): string[][] {
  const commands = splitShellScript(script);
  if (depth < 4) {
    for (const inner of substitutionsOf(script)) {
      commands.push(...scriptCommands(inner, depth + 1));
    }
  }
  return commands;
}

/** The text inside each outermost `$(...)` (not `$((...))`) and each backquoted part of a script. */
export function substitutionsOf(script: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < script.length; i++) {
    if (script[i] === '$' && script[i + 1] === '(' && script[i + 2] !== '(') {
      let depth = 1;
      let j = i + 2;
      for (; j < script.length && depth > 0; j++) {
        depth += script[j] === '(' ? 1 : script[j] === ')' ? -1 : 0;
      }
      found.push(script.slice(i + 2, depth === 0 ? j - 1 : j));
      i = j - 1;
    } else if (script[i] === '`') {
      const end = script.indexOf('`', i + 1);
      found.push(script.slice(i + 1, end === -1 ? script.length : end));
      i = end === -1 ? script.length : end;
    }
  }
  return found;
}

export function basename(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}
