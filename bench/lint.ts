/**
 * Lint time for 10,000 objects (`npm run bench:lint`; `-- --objects N --runs R` to change them).
 *
 * Generates hand-written-style manifests, five objects per service (ServiceAccount, Role,
 * RoleBinding, migration Job, Deployment with a waiter), with a trap in some of them, and times
 * what the command does: parse the YAML stream, run the rules, format the text output. Two
 * layouts: services spread over 50 namespaces, and no namespace at all (rendered Helm output),
 * where every RoleBinding may apply to every waiter. Prints medians; asserts nothing.
 */
import { performance } from 'perf_hooks';
import { formatText } from '../src/lint/format';
import { lint } from '../src/lint/lint';
import { parseManifests } from '../src/lint/load';

const OBJECTS_PER_SERVICE = 5;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 ? Number(process.argv[i + 1]) : fallback;
}

function service(i: number, namespaced: boolean): string {
  const name = `svc${i}`;
  const job = `${name}-migration-v1-${i % 97}`;
  const ns = namespaced ? `\n  namespace: team${i % 50}` : '';
  // Some services carry traps, so that findings are formatted too.
  const ttl = i % 10 === 0 ? '\n  ttlSecondsAfterFinished: 600' : '';
  const mode = i % 7 === 0 ? 'job' : 'job-wr';
  return `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}${ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ${name}-migration-reader${ns}
rules:
  - apiGroups: [batch]
    resources: [jobs]
    resourceNames: [${job}]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ${name}-migration-reader${ns}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: ${name}-migration-reader
subjects:
  - kind: ServiceAccount
    name: ${name}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: ${job}${ns}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 3600${ttl}
  podFailurePolicy:
    rules:
      - action: Ignore
        onPodConditions:
          - type: DisruptionTarget
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: registry.example.com/${name}-migration:v1
          command: [npx, prisma, migrate, deploy]
          envFrom:
            - secretRef:
                name: ${name}-db
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}${ns}
spec:
  replicas: 2
  strategy:
    rollingUpdate:
      maxUnavailable: 0
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      serviceAccountName: ${name}
      initContainers:
        - name: wait-for-migration
          image: groundnuty/k8s-wait-for:no-root-v2.0
          args: [${mode}, ${job}]
      containers:
        - name: service
          image: registry.example.com/${name}:v1
          envFrom:
            - secretRef:
                name: ${name}-db
`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(text: string, runs: number) {
  const parse: number[] = [];
  const rules: number[] = [];
  const format: number[] = [];
  let objects = 0;
  let findings = 0;
  // One warm-up, then the timed runs.
  for (let run = 0; run <= runs; run++) {
    const t0 = performance.now();
    const parsed = parseManifests(text, 'bench.yaml');
    const t1 = performance.now();
    const result = lint(parsed, { threshold: 'info', disabled: new Map() });
    const t2 = performance.now();
    formatText(result);
    const t3 = performance.now();
    if (run > 0) {
      parse.push(t1 - t0);
      rules.push(t2 - t1);
      format.push(t3 - t2);
    }
    objects = parsed.length;
    findings = result.findings.length;
  }
  return { objects, findings, parse: median(parse), rules: median(rules), format: median(format) };
}

const objectCount = arg('objects', 10000);
const runs = arg('runs', 3);
const services = Math.ceil(objectCount / OBJECTS_PER_SERVICE);
console.log(`lint benchmark: ${services * OBJECTS_PER_SERVICE} objects (${services} services), median of ${runs} runs after one warm-up, Node ${process.version}`);
console.log('layout            objects  findings  parse ms  rules ms  format ms  total ms');
for (const [label, namespaced] of [['50 namespaces', true], ['no namespace', false]] as const) {
  const text = Array.from({ length: services }, (_, i) => service(i, namespaced)).join('---\n');
  const m = measure(text, runs);
  const total = m.parse + m.rules + m.format;
  console.log(`${label.padEnd(16)}  ${String(m.objects).padStart(7)}  ${String(m.findings).padStart(8)}  ${m.parse.toFixed(0).padStart(8)}  `
    + `${m.rules.toFixed(0).padStart(8)}  ${m.format.toFixed(0).padStart(9)}  ${total.toFixed(0).padStart(8)}`);
}
