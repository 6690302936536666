/**
 * The ledger read and write: its entries, its bound, and what a read makes of a missing, empty or
 * forbidden ledger (against the fake API server).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { connect } from '../../src/program/api';
import { ledgerEntry, readLedger, withEntry } from '../../src/program/ledger';
import { contact, setGraceMs } from '../../src/program/retry';
import { FakeApiServer, RbacRule, waiterClientEnv } from '../support/fake-api-server';

const NS = 'shop';
const JOB = 'web-migration-4f2a9c';
const LEDGER = 'web-migration-ledger';
const TOKEN = 'token-of-the-waiter';
const READ_LEDGER: RbacRule[] = [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [LEDGER], verbs: ['get'] }];
const entry = (succeededAt: string) => JSON.stringify({ succeededAt });

describe('ledgerEntry', () => {
  test.each([
    ['an entry', entry('2031-01-01T00:00:00.000Z'), { succeededAt: '2031-01-01T00:00:00.000Z' }],
    ['an entry with its image', '{"succeededAt":"2031-01-01T00:00:00.000Z","image":"app:v2"}', { succeededAt: '2031-01-01T00:00:00.000Z', image: 'app:v2' }],
    ['no value', undefined, null],
    ['text that is not JSON', 'hello', null],
    ['JSON without succeededAt', '{"at":"2031"}', null],
    ['a succeededAt that is not a string', '{"succeededAt":2031}', null],
    ['null', 'null', null],
  ])('GIVEN %s THEN %j', (_what, value, expected) => {
    expect(ledgerEntry(value)).toEqual(expected);
  });
});

describe('withEntry', () => {
  test('GIVEN a full ledger WHEN an entry is added THEN the oldest go, and keys that are not ledger entries stay', () => {
    const data = {
      'old': entry('2030-01-01T00:00:00.000Z'),
      'older': entry('2029-01-01T00:00:00.000Z'),
      'newer': entry('2030-06-01T00:00:00.000Z'),
      'notes': 'someone else\'s key',
      'Not.A.Job': entry('2000-01-01T00:00:00.000Z'),
    };
    const result = withEntry(data, JOB, { succeededAt: '2031-01-01T00:00:00.000Z' }, 3);
    expect(Object.keys(result).sort()).toEqual(['Not.A.Job', 'newer', 'notes', 'old', JOB].sort());
    expect(result[JOB]).toBe(entry('2031-01-01T00:00:00.000Z'));
    // AND the ledger it was given is left as it was
    expect(Object.keys(data)).toHaveLength(5);
  });

  test('GIVEN the Job already in the ledger WHEN it is recorded again THEN its entry is replaced, not doubled', () => {
    const result = withEntry({ [JOB]: entry('2030-01-01T00:00:00.000Z') }, JOB, { succeededAt: '2031-01-01T00:00:00.000Z', image: 'app:v2' }, 1);
    expect(result).toEqual({ [JOB]: '{"succeededAt":"2031-01-01T00:00:00.000Z","image":"app:v2"}' });
  });

  test('GIVEN a ledger with a key "__proto__" (a valid ConfigMap key, as read from JSON) WHEN an entry is added THEN that key is kept as it was', () => {
    const data = JSON.parse('{"__proto__": "someone else\'s value"}');
    const result = withEntry(data, JOB, { succeededAt: '2031-01-01T00:00:00.000Z' }, 3);
    expect(Object.keys(result).sort()).toEqual(['__proto__', JOB].sort());
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toBe('someone else\'s value');
    expect(JSON.parse(JSON.stringify(result)).__proto__).toBe('someone else\'s value');
  });
});

describe('readLedger', () => {
  let server: FakeApiServer;
  let dir: string;
  const saved = { ...process.env };

  beforeEach(async () => {
    server = await FakeApiServer.start();
    dir = mkdtempSync(join(tmpdir(), 'ledger-test-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    server.tokens.set(TOKEN, READ_LEDGER);
    Object.assign(process.env, waiterClientEnv(server.port, join(dir, 'token'), NS));
    expect(connect()).toBe(true);
    setGraceMs(60_000);
    contact();
  });

  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  test('GIVEN a ledger that records the Job THEN it gives the time, with one GET by name', async () => {
    server.apply('configmaps', NS, { metadata: { name: LEDGER }, data: { [JOB]: entry('2031-01-01T00:00:00.000Z') } });
    expect(await readLedger(LEDGER, JOB, () => true)).toEqual({ succeededAt: '2031-01-01T00:00:00.000Z' });
    expect(server.requests.map((r) => `${r.verb} ${r.resource} ${r.name}`)).toEqual([`get configmaps ${LEDGER}`]);
  });

  test('GIVEN a ledger without the Job THEN no evidence, saying so', async () => {
    server.apply('configmaps', NS, { metadata: { name: LEDGER }, data: { other: entry('2031-01-01T00:00:00.000Z') } });
    expect(await readLedger(LEDGER, JOB, () => true)).toEqual({ text: `ledger ConfigMap ${NS}/${LEDGER} has no record of its success` });
  });

  test('GIVEN no ledger (404) THEN no evidence, at once', async () => {
    expect(await readLedger(LEDGER, JOB, () => true)).toEqual({ text: `ledger ConfigMap ${NS}/${LEDGER} does not exist, so no evidence of its success` });
    expect(server.count()).toBe(1);
  });

  test('GIVEN no ledger configured THEN no evidence, and no request', async () => {
    expect((await readLedger('', JOB, () => true)).text).toContain('MIGRATION_LEDGER is unset');
    expect(server.count()).toBe(0);
  });

  test('GIVEN a 403 past the grace window THEN no evidence, naming the permission the service account needs', async () => {
    server.tokens.set(TOKEN, []);
    setGraceMs(0);
    contact(Date.now() - 1000);
    const evidence = await readLedger(LEDGER, JOB, () => true);
    expect(evidence.succeededAt).toBeUndefined();
    expect(evidence.text).toContain('(HTTP 403 Forbidden: ');
    expect(evidence.text).toContain(`the service account needs get on configmaps named ${LEDGER}), so no evidence of its success`);
  });

  test('GIVEN a server error while the answer no longer matters THEN it gives up at once instead of retrying', async () => {
    server.interceptor = () => 500;
    const evidence = await readLedger(LEDGER, JOB, () => false);
    expect(evidence.text).toMatch(/^cannot read ledger ConfigMap shop\/web-migration-ledger \(HTTP 500/);
    expect(server.count()).toBe(1);
  });
});
