import { MigrationTool } from 'cdk8s-migrated-service';
import * as fc from 'fast-check';
import { lintText } from './support';

/** A hand-written Job whose container runs `command`. */
function jobRunning(command: string[]): string {
  return 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: shop-migration-v1-2-3}\n'
    + `spec: {template: {spec: {containers: [{name: migrate, image: x, command: ${JSON.stringify(command)}}]}}}\n`;
}

describe('MS029: a command line given as one string', () => {
  test('lint reports the first of args without a command at warning: the image\'s ENTRYPOINT may be a shell with -c', () => {
    // GIVEN containers with args and no command, and a command with args that hold spaces
    const pod = (container: object) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [${JSON.stringify({ name: 'c', image: 'x', ...container })}]}\n`;
    const findings = (container: object) => lintText(pod(container)).findings.filter((f) => f.rule.id === 'MS029');
    // WHEN linted THEN args alone with a command line in front are a warning that says when it is fine
    const [args] = findings({ args: ['bundle exec puma', '-C', 'config/puma.rb'] });
    expect(args.severity).toBe('warning');
    expect(args.message).toContain('Pod p (container c) has no command, and the args ["bundle exec puma","-C","config/puma.rb"]');
    expect(args.message).toContain('If the image\'s ENTRYPOINT is a shell with -c, the argument is a script, and this is fine');
    // AND args after a command are arguments, whatever they hold
    expect(findings({ command: ['sh', '-c'], args: ['bundle exec puma'] })).toEqual([]);
    expect(findings({ command: ['echo'], args: ['hello world'] })).toEqual([]);
  });

  test('the constructs refuse a command exactly when lint reports it at error (MS029), and the fix splits the words back', () => {
    const word = fc.stringMatching(/^[a-z0-9:./_-]{1,8}$/);
    const space = fc.stringMatching(/^[ \t\n]{1,3}$/);
    const arg = fc.stringMatching(/^[a-z0-9 ./-]{0,10}$/);
    // GIVEN a program of one or more words, joined by whitespace, with arguments that may hold spaces
    const command = fc.tuple(fc.array(fc.tuple(word, space), { maxLength: 3 }), word, fc.array(arg, { maxLength: 3 }))
      .map(([pairs, last, args]) => ({ words: [...pairs.map(([w]) => w), last], program: pairs.map(([w, s]) => w + s).join('') + last, args }));
    fc.assert(fc.property(command, ({ words, program, args }) => {
      // WHEN it is the migration command, and the command of a hand-written Job
      let refused: Error | undefined;
      try {
        MigrationTool.custom([program, ...args]);
      } catch (error) {
        refused = error as Error;
      }
      const lint = lintText(jobRunning([program, ...args])).findings.filter((f) => f.rule.id === 'MS029');
      // THEN both refuse it exactly when the program holds whitespace
      expect(refused !== undefined).toBe(words.length > 1);
      expect(lint.map((f) => f.severity)).toEqual(words.length > 1 ? ['error'] : []);
      // AND the fix they give is the words, then the arguments
      if (refused !== undefined) {
        expect(refused.message).toContain(`Split it into words: ${JSON.stringify([...words, ...args])}`);
        expect(lint[0].message).toContain(`Split it into words: ${JSON.stringify([...words, ...args])}`);
      }
    }), { numRuns: 200 });
  });
});
