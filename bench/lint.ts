/**
 * Lint time for 10,000 objects (`npm run bench:lint`; `-- --objects N --runs R` to change them).
 *
 * Generates hand-written-style manifests, five objects per service (ServiceAccount, Role,
 * RoleBinding, migration Job, Deployment with a waiter), with a trap in some of them, and times
 * what the command does: parse the YAML stream, run the rules, format the text output. Three
 * layouts: services spread over 50 namespaces, no namespace at all (where every RoleBinding may
 * apply to every waiter), and `helm template` output (`renderedService`: comments, chart labels,
 * probes, resources, hooks). Parse speed is given in MB/s of wall time and of the process's CPU
 * time (less disturbed by other load on the machine), and beside it the time the `yaml` package's
 * full syntax tree takes on the same text, which is what parsing cost before. Prints medians;
 * asserts nothing.
 */
import { performance } from 'perf_hooks';
import { LineCounter, parseAllDocuments } from 'yaml';
import { formatText } from '../packages/cli/src/lint/format';
import { lint } from '../packages/cli/src/lint/lint';
import { parseManifests } from '../packages/cli/src/lint/load';

const OBJECTS_PER_SERVICE = 5;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 ? Number(process.argv[i + 1]) : fallback;
}

export function service(i: number, namespaced: boolean): string {
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

/**
 * One service as `helm template` renders a chart: `# Source:` comments, the chart's labels on every
 * object, a ConfigMap and a Service, resources, probes and env, a pre-install hook Job with a
 * db-sync command, and a kubectl waiter in `sh -c`. About 2.5 times the text of `service`.
 */
export function renderedService(i: number): string {
  const name = `rel${i}-app`;
  const job = `${name}-db-sync-${i % 97}`;
  const labels = `    helm.sh/chart: app-1.4.2
    app.kubernetes.io/name: app
    app.kubernetes.io/instance: rel${i}
    app.kubernetes.io/version: "2.3.${i % 10}"
    app.kubernetes.io/managed-by: Helm`;
  return `# Source: app/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
  labels:
${labels}
---
# Source: app/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}-config
  labels:
${labels}
data:
  DB_HOST: "postgres.db.svc.cluster.local"
  DB_PORT: "5432"
  LOG_LEVEL: "info"
  FEATURE_FLAGS: "search,export,audit"
---
# Source: app/templates/rbac.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ${name}-job-reader
  labels:
${labels}
rules:
  - apiGroups: ["batch"]
    resources: ["jobs"]
    resourceNames: ["${job}"]
    verbs: ["get", "list", "watch"]
---
# Source: app/templates/rbac.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ${name}-job-reader
  labels:
${labels}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: ${name}-job-reader
subjects:
  - kind: ServiceAccount
    name: ${name}
---
# Source: app/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  labels:
${labels}
spec:
  type: ClusterIP
  ports:
    - port: 80
      targetPort: http
      protocol: TCP
      name: http
  selector:
    app.kubernetes.io/name: app
    app.kubernetes.io/instance: rel${i}
---
# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
${labels}
spec:
  replicas: 3
  strategy:
    rollingUpdate:
      maxUnavailable: ${i % 5 === 0 ? '25%' : '0'}
  selector:
    matchLabels:
      app.kubernetes.io/name: app
      app.kubernetes.io/instance: rel${i}
  template:
    metadata:
      annotations:
        checksum/config: 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f
      labels:
        app.kubernetes.io/name: app
        app.kubernetes.io/instance: rel${i}
    spec:
      serviceAccountName: ${name}
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        fsGroup: 1000
      initContainers:
        - name: wait-for-db-sync
          image: "registry.k8s.io/kubectl:v1.30.4"
          command:
            - /bin/sh
            - -c
            - |
              until kubectl wait --for=condition=complete job/${job} --timeout=10s; do
                echo "waiting for ${job}"
                sleep 2
              done
      containers:
        - name: app
          image: "registry.example.com/app:2.3.${i % 10}"
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          envFrom:
            - configMapRef:
                name: ${name}-config
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: ${name}-db
                  key: password
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 10
          readinessProbe:
            httpGet:
              path: /ready
              port: http
          resources:
            requests:
              cpu: 100m
              memory: 256Mi
            limits:
              memory: 512Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
---
# Source: app/templates/db-sync-job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: ${job}
  labels:
${labels}
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
    "helm.sh/hook-weight": "-5"
    "helm.sh/hook-delete-policy": before-hook-creation
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 1800
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app
        app.kubernetes.io/component: db-sync
    spec:
      restartPolicy: Never
      serviceAccountName: ${name}
      containers:
        - name: db-sync
          image: "registry.example.com/app:2.3.${i % 10}"
          command: ["/app/bin/manage_db.sh", "upgrade"]
          envFrom:
            - configMapRef:
                name: ${name}-config
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: ${name}-db
                  key: password
`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(text: string, runs: number) {
  const parse: number[] = [];
  const parseCpu: number[] = [];
  const tree: number[] = [];
  const rules: number[] = [];
  const format: number[] = [];
  let objects = 0;
  let findings = 0;
  // One warm-up, then the timed runs.
  for (let run = 0; run <= runs; run++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const parsed = parseManifests(text, 'bench.yaml');
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    const result = lint(parsed, { threshold: 'info', disabled: new Map() });
    const t2 = performance.now();
    formatText(result);
    const t3 = performance.now();
    // What parsing cost before: yaml's full syntax tree with line positions, then its data.
    const t4 = performance.now();
    for (const doc of parseAllDocuments(text, { lineCounter: new LineCounter(), version: '1.1' }) as any[]) {
      doc.toJS();
    }
    const t5 = performance.now();
    if (run > 0) {
      parse.push(t1 - t0);
      parseCpu.push((c1.user + c1.system) / 1000);
      rules.push(t2 - t1);
      format.push(t3 - t2);
      tree.push(t5 - t4);
    }
    objects = parsed.length;
    findings = result.findings.length;
  }
  return { objects, findings, parse: median(parse), parseCpu: median(parseCpu), tree: median(tree), rules: median(rules), format: median(format) };
}

if (require.main === module) {
  const objectCount = arg('objects', 10000);
  const runs = arg('runs', 3);
  const services = Math.ceil(objectCount / OBJECTS_PER_SERVICE);
  console.log(`lint benchmark: about ${objectCount} objects per layout, median of ${runs} runs after one warm-up, Node ${process.version}`);
  console.log('layout            objects      MB  findings  parse ms  MB/s  MB/s CPU  rules ms  format ms  total ms  yaml tree ms');
  const layouts: Array<[string, string]> = [
    ['50 namespaces', Array.from({ length: services }, (_, i) => service(i, true)).join('---\n')],
    ['no namespace', Array.from({ length: services }, (_, i) => service(i, false)).join('---\n')],
    // Eight objects per service.
    ['helm template', Array.from({ length: Math.ceil(objectCount / 8) }, (_, i) => renderedService(i)).join('---\n')],
  ];
  for (const [label, text] of layouts) {
    const m = measure(text, runs);
    const total = m.parse + m.rules + m.format;
    const mb = Buffer.byteLength(text) / 1e6;
    console.log(`${label.padEnd(16)}  ${String(m.objects).padStart(7)}  ${mb.toFixed(2).padStart(6)}  ${String(m.findings).padStart(8)}  ${m.parse.toFixed(0).padStart(8)}  `
      + `${(mb / (m.parse / 1000)).toFixed(1).padStart(4)}  ${(mb / (m.parseCpu / 1000)).toFixed(1).padStart(8)}  ${m.rules.toFixed(0).padStart(8)}  `
      + `${m.format.toFixed(0).padStart(9)}  ${total.toFixed(0).padStart(8)}  ${m.tree.toFixed(0).padStart(12)}`);
  }
}
