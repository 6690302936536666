import * as fs from 'fs';
import * as path from 'path';
import { FIXTURES, lintFiles, ruleIds } from './support';
import { yamlFilesUnder } from '../../src/lint/load';

// Minimal charts and manifest sets, written from the idioms of public charts of this pattern
// (OpenStack-style kubernetes-entrypoint, Rails, Django, Node apps, Helm hooks). Each file says on an
// `# expect:` line which rules a reader finds in it, and lint must find exactly those.
const CORPUS = path.join(FIXTURES, 'corpus');

test.each(yamlFilesUnder(CORPUS).map((f) => [path.basename(f), f]))('%s has exactly the findings a reader sees', (_name, file) => {
  // GIVEN the fixture and the rules its header expects
  const expected = (/^# expect:(.*)$/m.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? '').trim().split(/\s+/).filter(Boolean).sort();
  // WHEN linted at every severity THEN exactly those rules are found
  expect(ruleIds(lintFiles([file]))).toEqual(expected);
});
