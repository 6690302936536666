/**
 * The order of migrations across releases (src/program/queue-order.ts): who holds whom back, and
 * that the order makes one migration at a time, without deadlock, earliest first.
 */
import * as fc from 'fast-check';
import { before, describeHolder, JobState, keyOf, PodState, settled, turnDeadline, turnOf } from '../../src/program/queue-order';

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 2, 12, 0, seconds)).toISOString().replace(/\.\d{3}Z$/, 'Z');
const job = (name: string, created: number, extra: { conditions?: string[]; deleting?: boolean; version?: string } = {}): JobState => ({
  metadata: {
    name,
    creationTimestamp: at(created),
    ...(extra.deleting ? { deletionTimestamp: at(created + 100) } : {}),
    labels: { 'app.kubernetes.io/version': extra.version ?? name },
  },
  status: { startTime: at(created + 1), conditions: (extra.conditions ?? []).map((type) => ({ type, status: 'True' })) },
});
const pod = (name: string, jobName: string, created: number, extra: { phase?: string; terminating?: boolean } = {}): PodState => ({
  metadata: {
    name,
    creationTimestamp: at(created),
    ...(extra.terminating ? { deletionTimestamp: at(created + 30) } : {}),
    labels: { 'batch.kubernetes.io/job-name': jobName, 'job-name': jobName },
  },
  status: { phase: extra.phase ?? 'Running' },
});

describe('turnOf', () => {
  test('GIVEN an earlier release\'s Job that has not finished and has no pod yet WHEN the later one asks THEN it waits for that Job', () => {
    const turn = turnOf('v2', 'v2-a', [job('v2', 10), job('v1', 5)], [pod('v2-a', 'v2', 11)]);
    expect(turn).toEqual({ kind: 'wait', holders: [expect.objectContaining({ job: 'v1', version: 'v1', terminating: false })] });
    expect(turn.kind === 'wait' && turn.holders[0].pod).toBeUndefined();
  });

  test('GIVEN the earlier release completed and its pod succeeded WHEN the later one asks THEN it is clear', () => {
    const turn = turnOf('v2', 'v2-a', [job('v1', 5, { conditions: ['Complete'] }), job('v2', 10)], [pod('v1-a', 'v1', 6, { phase: 'Succeeded' }), pod('v2-a', 'v2', 11)]);
    expect(turn).toEqual({ kind: 'clear' });
  });

  test('GIVEN the earlier release failed WHEN its pod has ended THEN it holds nothing (the next release runs the pending migrations)', () => {
    const jobs = [job('v1', 5, { conditions: ['Failed'] }), job('v2', 10)];
    expect(turnOf('v2', 'v2-a', jobs, [pod('v1-a', 'v1', 6, { phase: 'Failed' })])).toEqual({ kind: 'clear' });
  });

  test('GIVEN the earlier release hit its deadline WHEN its pod is still terminating THEN that pod holds the next one', () => {
    const jobs = [job('v1', 5, { conditions: ['Failed'] }), job('v2', 10)];
    const turn = turnOf('v2', 'v2-a', jobs, [pod('v1-a', 'v1', 6, { terminating: true })]);
    expect(turn).toEqual({ kind: 'wait', holders: [expect.objectContaining({ job: 'v1', pod: 'v1-a', terminating: true })] });
  });

  test('GIVEN the earlier release\'s Job was pruned (gone) WHEN its pod is terminating THEN the pod holds until it is gone', () => {
    const turn = turnOf('v2', 'v2-a', [job('v2', 10)], [pod('v1-a', 'v1', 6, { terminating: true })]);
    expect(turn).toEqual({ kind: 'wait', holders: [expect.objectContaining({ job: 'v1', pod: 'v1-a', terminating: true, version: undefined })] });
    expect(turnOf('v2', 'v2-a', [job('v2', 10)], [])).toEqual({ kind: 'clear' });
  });

  test('GIVEN an earlier Job being deleted in the foreground WHEN it has no pod left THEN it holds nothing', () => {
    expect(turnOf('v2', 'v2-a', [job('v1', 5, { deleting: true }), job('v2', 10)], [])).toEqual({ kind: 'clear' });
  });

  test('GIVEN a later release\'s Job WHEN the earlier one asks THEN the later one does not hold it, running pod or not', () => {
    expect(turnOf('v1', 'v1-a', [job('v1', 5), job('v2', 10)], [pod('v2-a', 'v2', 11)])).toEqual({ kind: 'clear' });
  });

  test('GIVEN a rollback: the older tag\'s Job created after the newer one\'s WHEN both ask THEN the one created first goes first', () => {
    const jobs = [job('v1', 20), job('v2', 10)];
    const pods = [pod('v1-a', 'v1', 21), pod('v2-a', 'v2', 11)];
    expect(turnOf('v2', 'v2-a', jobs, pods)).toEqual({ kind: 'clear' });
    expect(turnOf('v1', 'v1-a', jobs, pods).kind).toBe('wait');
  });

  test('GIVEN two Jobs created in the same second WHEN they ask THEN the name breaks the tie, the same way for both', () => {
    const jobs = [job('web-migration-b', 10), job('web-migration-a', 10)];
    expect(turnOf('web-migration-a', 'a-1', jobs, [])).toEqual({ kind: 'clear' });
    expect(turnOf('web-migration-b', 'b-1', jobs, []).kind).toBe('wait');
  });

  test('GIVEN a later release\'s pod that is terminating WHEN the earlier one asks THEN it waits for it to be gone (it may have been migrating)', () => {
    const turn = turnOf('v1', 'v1-a', [job('v1', 5), job('v2', 10)], [pod('v2-a', 'v2', 11, { terminating: true })]);
    expect(turn.kind).toBe('wait');
  });

  test('GIVEN a node drain: another pod of the own Job still runs WHEN the replacement asks THEN it waits for it', () => {
    const pods = [pod('v1-old', 'v1', 6, { terminating: true }), pod('v1-new', 'v1', 8)];
    expect(turnOf('v1', 'v1-new', [job('v1', 5)], pods)).toEqual({ kind: 'wait', holders: [expect.objectContaining({ job: 'v1', pod: 'v1-old' })] });
    // Without its own name it cannot tell itself from the other: it does not wait for its own Job's pods.
    expect(turnOf('v1', '', [job('v1', 5)], pods)).toEqual({ kind: 'clear' });
  });

  test('GIVEN the own Job is gone WHEN asked THEN the migration must not start', () => {
    expect(turnOf('v2', 'v2-a', [job('v1', 5)], [pod('v2-a', 'v2', 11)])).toEqual({ kind: 'gone' });
  });

  test('GIVEN a pod whose Job is gone but which is not yet terminating (the garbage collector lags, or it was orphaned) WHEN asked THEN it holds, whatever its age', () => {
    expect(turnOf('v2', 'v2-a', [job('v2', 10)], [pod('v1-a', 'v1', 6)]).kind).toBe('wait');
    // created after the own Job (a retry of an earlier release's pod), it may be migrating all the same
    expect(turnOf('v2', 'v2-a', [job('v2', 10)], [pod('v1-b', 'v1', 20)]).kind).toBe('wait');
    expect(turnOf('v2', 'v2-a', [job('v2', 10)], [pod('v1-b', 'v1', 20, { phase: 'Failed' })])).toEqual({ kind: 'clear' });
  });

  test('GIVEN several holders THEN the earliest comes first, and the log names its release, Job and start', () => {
    const turn = turnOf('v3', 'v3-a', [job('v3', 30), job('v2', 20), job('v1', 10)], []);
    expect(turn.kind === 'wait' && turn.holders.map((h) => h.job)).toEqual(['v1', 'v2']);
    expect(turn.kind === 'wait' && describeHolder(turn.holders[0])).toBe(`release v1's migration Job v1 (running since ${at(11)})`);
    expect(describeHolder({ job: 'v1', pod: 'v1-a', terminating: true, since: at(6) })).toBe(`pod v1-a of migration Job v1 (terminating, created ${at(6)})`);
  });
});

describe('settled and turnDeadline', () => {
  test('GIVEN a Job created at second S WHEN a list is answered before S+2 THEN it does not settle; at S+2 it does', () => {
    const own = job('v1', 10);
    const created = Date.parse(at(10));
    expect(settled(own, created + 1999)).toBe(false);
    expect(settled(own, created + 2000)).toBe(true);
  });

  test('GIVEN a Job that started at T WHEN the queue allows Q seconds THEN the turn must come by T+Q', () => {
    expect(turnDeadline(job('v1', 10), 60)).toBe(Date.parse(at(11)) + 60_000);
  });
});

// A model of several releases' migration pods, each deciding on what the API server shows at that
// moment, under any interleaving of creations, checks, successes, failures and prunes.
type Step =
  | { readonly kind: 'tick'; readonly ms: number }
  | { readonly kind: 'create' | 'check' | 'succeed' | 'fail' | 'prune' | 'gone'; readonly release: number };

interface Release {
  readonly name: string;
  job?: JobState;
  pod?: PodState;
  /** queued: in the queue step; migrating: past it; dying: killed while queued; ended. */
  state: 'none' | 'queued' | 'migrating' | 'dying' | 'ended';
  terminating: boolean;
}

interface Simulation {
  readonly releases: Release[];
  readonly maxMigrating: number;
  check(r: Release): void;
  now(): number;
  tick(ms: number): void;
}

function simulate(names: string[], steps: Step[]): Simulation {
  let now = Date.parse(at(0));
  const releases: Release[] = names.map((name) => ({ name, state: 'none', terminating: false }));
  let maxMigrating = 0;
  const secondOf = (ms: number) => Math.floor(ms / 1000) * 1000;
  const stamp = (ms: number) => new Date(secondOf(ms)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const view = (): [JobState[], PodState[]] => [
    releases.filter((r) => r.job).map((r) => r.job!),
    releases.filter((r) => r.pod).map((r) => r.pod!),
  ];
  const setPhase = (r: Release, phase: string) => {
    r.pod = { ...r.pod!, status: { phase } };
  };
  const setCondition = (r: Release, type: string) => {
    r.job = { ...r.job!, status: { ...r.job!.status, conditions: [{ type, status: 'True' }] } };
  };
  const check = (r: Release) => {
    if (r.state !== 'queued' || r.terminating) return;
    const turn = turnOf(r.name, `${r.name}-pod`, ...view());
    // The list's Date header: whole seconds, stamped a little after the read.
    if (turn.kind === 'clear' && settled(r.job!, secondOf(now))) r.state = 'migrating';
  };
  for (const step of steps) {
    if (step.kind === 'tick') {
      now += step.ms;
      continue;
    }
    const r = releases[step.release];
    if (step.kind === 'create' && r.state === 'none') {
      r.job = { metadata: { name: r.name, creationTimestamp: stamp(now) }, status: { startTime: stamp(now) } };
      r.pod = { metadata: { name: `${r.name}-pod`, creationTimestamp: stamp(now), labels: { 'job-name': r.name } }, status: { phase: 'Pending' } };
      r.state = 'queued';
    } else if (step.kind === 'check') {
      check(r);
    } else if (step.kind === 'succeed' && r.state === 'migrating') {
      r.state = 'ended';
      setPhase(r, 'Succeeded');
      if (r.job) setCondition(r, 'Complete');
    } else if (step.kind === 'fail' && (r.state === 'migrating' || r.state === 'queued') && !r.terminating) {
      r.state = 'ended';
      setPhase(r, 'Failed');
      if (r.job) setCondition(r, 'Failed');
    } else if (step.kind === 'prune' && r.job) {
      // Background propagation: the Job goes, its pod terminates but its process may still run.
      r.job = undefined;
      if (r.pod && r.state !== 'ended') {
        r.terminating = true;
        r.pod = { ...r.pod, metadata: { ...r.pod.metadata, deletionTimestamp: stamp(now + 30_000) } };
        if (r.state === 'queued') r.state = 'dying';
      }
    } else if (step.kind === 'gone' && r.terminating) {
      r.pod = undefined;
      r.terminating = false;
      r.state = 'ended';
    }
    maxMigrating = Math.max(maxMigrating, releases.filter((x) => x.state === 'migrating').length);
  }
  return { releases, maxMigrating, check, now: () => now, tick: (ms) => (now += ms) };
}

const stepsOf = (n: number) => fc.array(fc.oneof(
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 1200 }) }),
  fc.record({ kind: fc.constantFrom('create' as const, 'check' as const, 'check' as const, 'succeed' as const, 'fail' as const, 'prune' as const, 'gone' as const), release: fc.nat(n - 1) }),
), { maxLength: 80 });

describe('the order, under any interleaving', () => {
  const releases = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { minLength: 2, maxLength: 4 });

  test('GIVEN releases created at any times (ties in the same second included) WHEN each decides on what it sees THEN never two migrate at once', () => {
    fc.assert(fc.property(releases.chain((names) => fc.tuple(fc.constant(names), stepsOf(names.length))), ([names, steps]) => {
      expect(simulate(names, steps).maxMigrating).toBeLessThanOrEqual(1);
    }), { numRuns: 400 });
  });

  test('GIVEN a Job created in the same second as another, after that one checked, and sorting before it by name WHEN both check THEN the settle rule keeps the first from starting early', () => {
    // b is created and checks at once; a, created in the same second, sorts before b by name.
    const steps: Step[] = [
      { kind: 'create', release: 0 }, { kind: 'check', release: 0 },
      { kind: 'tick', ms: 300 }, { kind: 'create', release: 1 }, { kind: 'check', release: 1 },
      { kind: 'tick', ms: 2000 }, { kind: 'check', release: 0 }, { kind: 'check', release: 1 }, { kind: 'check', release: 0 },
    ];
    const run = simulate(['b', 'a'], steps);
    expect(run.maxMigrating).toBe(1);
    expect(run.releases.map((r) => r.state)).toEqual(['queued', 'migrating']);
  });

  test('GIVEN any interleaving WHEN the queued ones keep checking and the migrating one finishes THEN all finish (no deadlock), in the order of their Jobs\' keys', () => {
    fc.assert(fc.property(releases.chain((names) => fc.tuple(fc.constant(names), stepsOf(names.length))), ([names, steps]) => {
      const run = simulate(names, steps);
      const started: string[] = [];
      for (let round = 0; round < 50 && run.releases.some((r) => r.state === 'queued' || r.state === 'migrating'); round++) {
        run.tick(1000);
        for (const r of run.releases) {
          // Grace periods end: a terminating pod goes.
          if (r.terminating) {
            r.pod = undefined;
            r.terminating = false;
            r.state = 'ended';
          }
          run.check(r);
          if (r.state === 'migrating') {
            started.push(r.name);
            r.state = 'ended';
            r.pod = { ...r.pod!, status: { phase: 'Succeeded' } };
            r.job = { ...r.job!, status: { ...r.job!.status, conditions: [{ type: 'Complete', status: 'True' }] } };
          }
        }
      }
      expect(run.releases.filter((r) => r.state === 'queued' || r.state === 'migrating').map((r) => r.name)).toEqual([]);
      // Those that were still queued when the steps ended started earliest key first.
      const keys = started.map((name) => keyOf(run.releases.find((r) => r.name === name)!.job!.metadata));
      for (let i = 1; i < keys.length; i++) expect(before(keys[i - 1], keys[i])).toBe(true);
    }), { numRuns: 300 });
  });

  test('GIVEN any state WHEN the waits-for relation is drawn THEN it has no cycle among pods that wait', () => {
    fc.assert(fc.property(releases.chain((names) => fc.tuple(fc.constant(names), stepsOf(names.length))), ([names, steps]) => {
      const run = simulate(names, steps);
      const jobs = run.releases.filter((r) => r.job).map((r) => r.job!);
      const pods = run.releases.filter((r) => r.pod).map((r) => r.pod!);
      const waitsFor = new Map<string, string[]>();
      for (const r of run.releases) {
        if (r.state !== 'queued' || !r.job) continue;
        const turn = turnOf(r.name, `${r.name}-pod`, jobs, pods);
        // A terminating holder waits for nothing: only queued releases have edges.
        waitsFor.set(r.name, turn.kind === 'wait' ? turn.holders.filter((h) => !h.terminating).map((h) => h.job) : []);
      }
      const visiting = new Set<string>();
      const done = new Set<string>();
      const cyclic = (name: string): boolean => {
        if (done.has(name)) return false;
        if (visiting.has(name)) return true;
        visiting.add(name);
        const found = (waitsFor.get(name) ?? []).some(cyclic);
        visiting.delete(name);
        done.add(name);
        return found;
      };
      expect([...waitsFor.keys()].some(cyclic)).toBe(false);
    }), { numRuns: 300 });
  });
});

describe('a queue shared by several services (DatabaseQueue): the queue offset', () => {
  const OFFSET = 'cdk8s-migrated-service.dev/queue-offset-seconds';
  const ranked = (name: string, created: number, offset: number, extra: { conditions?: string[] } = {}): JobState => {
    const base = job(name, created, extra);
    return { ...base, metadata: { ...base.metadata, ...(offset > 0 ? { annotations: { [OFFSET]: `${offset}` } } : {}) } };
  };

  test('GIVEN billing runs after api (offset 30 s) WHEN billing\'s Job was created FIRST, in the same apply THEN billing waits for api, and api for nothing', () => {
    // GIVEN billing's Job created 3 s before api's (an apply that wrote billing first)
    const jobs = [ranked('billing-v7', 10, 30), ranked('api-v3', 13, 0)];
    // THEN billing waits behind api's Job, whatever the creation order
    expect(turnOf('billing-v7', 'billing-pod', jobs, [])).toEqual({ kind: 'wait', holders: [expect.objectContaining({ job: 'api-v3' })] });
    // AND api does not wait for billing: no two pods wait for each other
    expect(turnOf('api-v3', 'api-pod', jobs, [])).toEqual({ kind: 'clear' });
  });

  test('GIVEN api\'s Job failed and its pod ended WHEN billing asks THEN api holds nothing', () => {
    const jobs = [ranked('billing-v7', 10, 30), ranked('api-v3', 13, 0, { conditions: ['Failed'] })];
    expect(turnOf('billing-v7', 'billing-pod', jobs, [pod('api-v3-a', 'api-v3', 14, { phase: 'Failed' })])).toEqual({ kind: 'clear' });
  });

  test('GIVEN api\'s Job created more than the offset after billing\'s WHEN they ask THEN it goes after billing (a later apply)', () => {
    const jobs = [ranked('billing-v7', 10, 30), ranked('api-v4', 41, 0)];
    expect(turnOf('billing-v7', 'billing-pod', jobs, [])).toEqual({ kind: 'clear' });
    expect(turnOf('api-v4', 'api-pod', jobs, [])).toEqual({ kind: 'wait', holders: [expect.objectContaining({ job: 'billing-v7' })] });
  });

  test('GIVEN an offset WHEN the own Job settles THEN only once the offset (plus the 2 s) has passed, so a late earlier service is seen', () => {
    const billing = ranked('billing-v7', 10, 30);
    const created = Date.parse(at(10));
    expect(settled(billing, created + 31_000)).toBe(false);
    expect(settled(billing, created + 32_000)).toBe(true);
    // AND the queue's deadline still counts from the Job's start, not from its offset
    expect(turnDeadline(billing, 60)).toBe(Date.parse(at(11)) + 60_000);
    // AND an offset that is not a positive number is ignored (no earlier key than the creation)
    expect(keyOf({ name: 'x', creationTimestamp: at(10), annotations: { [OFFSET]: 'soon' } }).time).toBe(created);
    expect(keyOf({ name: 'x', creationTimestamp: at(10), annotations: { [OFFSET]: '-30' } }).time).toBe(created);
  });

  test('GIVEN any Jobs of three ranked services WHEN every unfinished Job asks THEN exactly one is clear and none waits for one that waits for it', () => {
    const arbitraryJob = fc.record({ created: fc.integer({ min: 0, max: 120 }), rank: fc.integer({ min: 0, max: 2 }) });
    fc.assert(fc.property(fc.array(arbitraryJob, { minLength: 1, maxLength: 8 }), (specs) => {
      const jobs = specs.map((s, i) => ranked(`svc${s.rank}-j${i}`, s.created, s.rank * 30));
      const turns = jobs.map((j) => [j.metadata.name, turnOf(j.metadata.name, `${j.metadata.name}-pod`, jobs, [])] as const);
      expect(turns.filter(([, t]) => t.kind === 'clear')).toHaveLength(1);
      const waitsFor = new Map(turns.map(([name, t]) => [name, new Set(t.kind === 'wait' ? t.holders.map((h) => h.job) : [])]));
      for (const [name, holders] of waitsFor) {
        for (const holder of holders) expect(waitsFor.get(holder)!.has(name)).toBe(false);
      }
    }));
  });
});
