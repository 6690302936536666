/**
 * Copies the recordings of a real Kubernetes API server (a README.md and recordings/*.json, made
 * outside this repository) verbatim into test/fixtures/k8s-api, which the tests read. Run by hand
 * when the recordings change, never by a test or by CI:
 *
 *   npx projen fixtures:k8s-api <folder holding README.md and recordings/>
 *
 * The copy replaces the fixtures whole, so that a recording dropped at the source is dropped here.
 * Review the diff and run test/fake-api-server.recordings.test.ts before committing it.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'fs';
import { join, resolve } from 'path';

const FIXTURES = join(__dirname, '..', 'test', 'fixtures', 'k8s-api');

export function copyRecordings(source: string, target: string = FIXTURES): string[] {
  const recordings = join(source, 'recordings');
  if (!existsSync(join(source, 'README.md')) || !existsSync(recordings)) {
    throw new Error(`${source} holds no README.md and recordings/: give the folder the recordings were made into`);
  }
  const files = readdirSync(recordings).filter((file) => file.endsWith('.json')).sort();
  if (files.length === 0) {
    throw new Error(`${recordings} holds no recording (*.json)`);
  }
  for (const file of files) {
    // A file that is not JSON would fail every test that reads the recordings; refuse it here.
    JSON.parse(readFileSync(join(recordings, file), 'utf8'));
  }
  rmSync(target, { recursive: true, force: true });
  mkdirSync(join(target, 'recordings'), { recursive: true });
  copyFileSync(join(source, 'README.md'), join(target, 'README.md'));
  for (const file of files) {
    copyFileSync(join(recordings, file), join(target, 'recordings', file));
  }
  return files;
}

if (require.main === module) {
  const [source] = process.argv.slice(2);
  if (!source) {
    console.error('usage: npx projen fixtures:k8s-api <folder holding README.md and recordings/>');
    process.exit(2);
  }
  const files = copyRecordings(resolve(source));
  console.log(`copied README.md and ${files.length} recordings into test/fixtures/k8s-api; review the diff, then run test/fake-api-server.recordings.test.ts`);
}
