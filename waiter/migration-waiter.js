'use strict';
// migration-waiter: the program behind MigrationWaiter's default waiter. Modes:
//   job      wait for this release's migration Job (init container of each gated pod)
//   record   record the migration's success in the ledger ConfigMap (in the migration Job's pod)
//   rollout  wait until workloads have rolled out this release (before a post-deploy migration)
// It runs from the official node image as `node /opt/migration-waiter/migration-waiter.js <mode>`,
// so it uses Node >= 18 built-ins only. The construct writes this text, with comment-only lines
// removed, once per namespace in the ConfigMap `migration-waiter`: never start a line inside a
// string with two slashes, and use no block comments. See waiter/README.md.
const fs = require('fs');
const https = require('https');

const PROGRAM = 'migration-waiter';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const env = process.env;
const WATCH_SECONDS = Number(env.WAITER_WATCH_SECONDS) || 240;
const RECHECK_MS = (Number(env.WAITER_RECHECK_SECONDS) || 30) * 1000;
let api;
let finishing = false;
// How long 401 and 403 answers are taken for a restarting API server (whose authorizer has not
// caught up yet) rather than for missing RBAC: counted from the last answer that was not an error.
let graceMs = 60000;
let lastContact = Date.now();

function stamp(text) {
  return `${new Date().toISOString()} ${PROGRAM}: ${text}\n`;
}
function log(text) {
  if (!finishing) process.stdout.write(stamp(text));
}
function warn(text) {
  if (!finishing) process.stderr.write(stamp(text));
}
// Exits once the line is written: a pipe to the container runtime may still hold it, and the last
// line is the one `kubectl logs` readers need. Failures and warnings go to stderr. Returns a promise
// that never settles, so an async caller that awaits it goes no further.
function finish(code, text) {
  if (!finishing) {
    finishing = true;
    const stream = code === 0 && !text.startsWith('WARNING') ? process.stdout : process.stderr;
    stream.write(stamp(text), () => process.exit(code));
    setTimeout(() => process.exit(code), 1000);
  }
  return new Promise(() => {});
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// The one retry policy of this program: 0.5-1.5 s between attempts, 1 s on average, whatever
// failed and however often. It never grows, so a pod sees a restarted API server within about
// 1 s; the jitter spreads hundreds of pods' attempts over that second instead of in step, and
// each pod makes at most about one attempt per second while the server is down.
function retryDelayMs() {
  return 500 + Math.random() * 1000;
}
// Whether an error is worth another attempt: connection errors, 5xx, 429 and anything else the
// server may stop saying, except 401 and 403 once they have lasted past the grace window.
function retryable(err) {
  if (err.status === 401 || err.status === 403) return Date.now() - lastContact <= graceMs;
  return true;
}
// Logs each distinct problem once (not once per attempt), and once that it is over.
function problemLog(subject) {
  let current = '';
  return {
    report(err) {
      const key = String(err.status || err.code || err.message);
      if (key === current) return;
      current = key;
      const denied = err.status === 401 || err.status === 403;
      const final = ` (an API server that is starting denies requests for a moment; after ${graceMs / 1000} s without a good answer this is final)`;
      warn(`${subject}: ${describe(err)}; retrying about once a second${denied ? final : ''}`);
    },
    over() {
      if (current) log(`${subject}: the API server answers again`);
      current = '';
    },
  };
}
function required(name) {
  const value = env[name];
  if (!value) finish(2, `environment variable ${name} is not set (see waiter/README.md)`);
  return value;
}
function describe(err) {
  if (err.status) return `HTTP ${err.status}${err.reason ? ` ${err.reason}` : ''}: ${err.message}`;
  return err.code ? `${err.code}: ${err.message}` : err.message;
}

function connection() {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    finish(2, 'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: run in a pod, or set them to reach the API server (see waiter/README.md)');
    return null;
  }
  const tokenFile = env.WAITER_TOKEN_FILE || `${SA_DIR}/token`;
  const caFile = env.WAITER_CA_FILE || `${SA_DIR}/ca.crt`;
  const namespaceFile = `${SA_DIR}/namespace`;
  try {
    fs.accessSync(tokenFile, fs.constants.R_OK);
    const ca = fs.readFileSync(caFile);
    const namespace = env.WAITER_NAMESPACE || fs.readFileSync(namespaceFile, 'utf8').trim();
    return {
      host: host.replace(/^\[(.*)\]$/, '$1'),
      port: Number(port),
      ca,
      tokenFile,
      namespace,
      agent: new https.Agent({ keepAlive: true }),
    };
  } catch (err) {
    finish(2, `cannot read ${err.path || 'the service account files'} (${err.code}): the pod needs its service account token mounted (automountServiceAccountToken: true); outside a pod, set WAITER_TOKEN_FILE, WAITER_CA_FILE and WAITER_NAMESPACE`);
    return null;
  }
}

function apiError(status, body, text) {
  const message = (body && body.message) || String(text || '').slice(0, 300) || 'no message';
  return Object.assign(new Error(message), { status, reason: body && body.reason });
}

// One API request. Without onEvent it resolves with the parsed body (2xx) or rejects with an error
// carrying the HTTP status. With onEvent it is a watch: each line of the chunked 200 answer is one
// event; it resolves when the server ends the stream and rejects when the connection breaks.
function send(method, path, body, onEvent) {
  return new Promise((resolve, reject) => {
    let token;
    try {
      token = fs.readFileSync(api.tokenFile, 'utf8').trim();
    } catch (err) {
      return reject(err);
    }
    const headers = { 'Authorization': `Bearer ${token}`, 'Accept': 'application/json', 'User-Agent': PROGRAM };
    const payload = body ? JSON.stringify(body) : undefined;
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const req = https.request({ host: api.host, port: api.port, ca: api.ca, agent: api.agent, method, path, headers }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      const streaming = onEvent && res.statusCode === 200;
      // Any answer but a denial or a server error shows the API server up and authorizing. An open
      // watch is contact for as long as it lasts.
      const contact = res.statusCode < 500 && res.statusCode !== 401 && res.statusCode !== 403 && res.statusCode !== 429;
      const touch = () => {
        if (contact) lastContact = Date.now();
      };
      touch();
      res.on('close', touch);
      res.on('data', (chunk) => {
        touch();
        text += chunk;
        for (let nl = text.indexOf('\n'); streaming && nl >= 0; nl = text.indexOf('\n')) {
          const line = text.slice(0, nl);
          text = text.slice(nl + 1);
          try {
            if (line.trim()) onEvent(JSON.parse(line));
          } catch (err) {
            reject(err);
            req.destroy();
            return;
          }
        }
      });
      res.on('end', () => {
        if (streaming) return resolve();
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch (err) {
          parsed = undefined;
        }
        if (res.statusCode >= 200 && res.statusCode < 300 && parsed) resolve(parsed);
        else reject(apiError(res.statusCode, parsed, text));
      });
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(Object.assign(new Error('the API server closed the connection mid-answer'), { code: 'ECONNRESET' }));
      });
    });
    // A connection that went silent (a dead node, a half-open TCP stream) must not hang the waiter
    // forever. A watch is silent while nothing changes, so it gets the server's timeout plus a minute.
    req.setTimeout(onEvent ? (WATCH_SECONDS + 60) * 1000 : 30000, () => req.destroy(Object.assign(new Error('no answer from the API server'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}

// Follows one object by name: LIST it with a metadata.name field selector (which a Role rule with
// resourceNames allows, unlike a plain LIST), then WATCH from the list's resourceVersion so no
// change between the two is lost. onChange gets the object, or null while it does not exist.
// Runs until the process exits; 401 and 403 that outlast the grace window call onDenied, anything
// else is retried.
async function follow(group, plural, name, onChange, onDenied) {
  const base = `${group}/namespaces/${api.namespace}/${plural}?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
  const problems = problemLog(`${plural} ${name}`);
  let resourceVersion = '';
  let goneBefore = false;
  for (;;) {
    let healthy = false;
    let retryNow = false;
    let gone = false;
    try {
      if (!resourceVersion) {
        const list = await send('GET', base);
        if (!list.metadata || !list.metadata.resourceVersion) throw new Error('the LIST answer has no resourceVersion');
        problems.over();
        onChange((list.items || [])[0] || null);
        resourceVersion = list.metadata.resourceVersion;
      }
      const opened = Date.now();
      const query = `&watch=1&allowWatchBookmarks=true&timeoutSeconds=${WATCH_SECONDS}&resourceVersion=${resourceVersion}`;
      await send('GET', base + query, null, (event) => {
        if (event.type === 'ERROR') throw apiError(event.object && event.object.code, event.object);
        const meta = (event.object && event.object.metadata) || {};
        resourceVersion = meta.resourceVersion || resourceVersion;
        if (event.type === 'ADDED' || event.type === 'MODIFIED') onChange(event.object);
        if (event.type === 'DELETED') onChange(null, event.object);
        // Bookmarks do not count as progress: a server that sent one and then closed the stream
        // every time would otherwise be reconnected to in a busy loop.
        if (event.type !== 'BOOKMARK') healthy = true;
      });
      // A watch that ran for most of its timeout ended normally: renew it at once. One the server
      // closed early counts as a failure, so a server or proxy that closes every stream at once
      // gets the retry pause instead of a busy loop.
      if (Date.now() - opened >= WATCH_SECONDS * 500) healthy = true;
    } catch (err) {
      if (err.status === 410) {
        // The resourceVersion was compacted away (or the API server restarted): LIST again, at
        // once unless the previous attempt also ended so.
        resourceVersion = '';
        gone = true;
        retryNow = !goneBefore || healthy;
        healthy = false;
      } else if (!retryable(err)) {
        return onDenied(err);
      } else {
        problems.report(err);
      }
    }
    if (finishing) return;
    goneBefore = gone;
    if (healthy) problems.over();
    else if (!retryNow) await sleep(retryDelayMs());
  }
}

function deniedMessage(err, what, rule) {
  if (err.status === 401) {
    return `the API server rejected the service account token (401 Unauthorized) while reading ${what}: the token must be mounted (automountServiceAccountToken: true) and current; outside a pod, check WAITER_TOKEN_FILE`;
  }
  return `forbidden to read ${what} (403: ${err.message}): the pod's service account needs ${rule}, and its token must be mounted (automountServiceAccountToken: true)`;
}

function ledgerEntry(value) {
  try {
    const entry = JSON.parse(value);
    return entry && typeof entry.succeededAt === 'string' ? entry : null;
  } catch (err) {
    return null;
  }
}

// The ledger's view of one Job: { succeededAt } when it records a success, otherwise { text } saying
// why there is no evidence. Retries what the retry policy retries for as long as wanted() says the
// answer still matters. Never throws: a missing or forbidden ledger is no evidence, not a crash.
async function readLedger(ledger, name, wanted) {
  const ref = `ledger ConfigMap ${api.namespace}/${ledger}`;
  if (!ledger) return { text: 'no ledger configured (MIGRATION_LEDGER is unset), so no evidence of an earlier success' };
  const problems = problemLog(ref);
  for (;;) {
    try {
      const configMap = await send('GET', `/api/v1/namespaces/${api.namespace}/configmaps/${ledger}`);
      problems.over();
      const entry = ledgerEntry((configMap.data || {})[name]);
      return entry ? { succeededAt: entry.succeededAt } : { text: `${ref} has no record of its success` };
    } catch (err) {
      if (err.status === 404) return { text: `${ref} does not exist, so no evidence of its success` };
      if (!retryable(err) && (err.status === 401 || err.status === 403)) {
        return { text: `cannot read ${ref} (${describe(err)}; the service account needs get on configmaps named ${ledger}), so no evidence of its success` };
      }
      if (!wanted()) return { text: `cannot read ${ref} (${describe(err)}), so no evidence of its success` };
      problems.report(err);
    }
    await sleep(retryDelayMs());
  }
}

async function waitForJob() {
  const name = required('MIGRATION_JOB');
  const container = env.MIGRATION_CONTAINER || 'migrate';
  const ledger = env.MIGRATION_LEDGER || '';
  if (finishing) return;
  const ref = `Job ${api.namespace}/${name}`;
  let missing = false;
  let checking = false;
  // A Job that is missing may be gone (TTL, prune, deleted by hand) or not applied yet (engines
  // apply in any order): exit 0 only on the ledger's evidence of success, otherwise keep waiting.
  const checkMissing = async () => {
    checking = true;
    const evidence = await readLedger(ledger, name, () => missing && !finishing);
    checking = false;
    if (!missing) return;
    if (evidence.succeededAt) {
      return finish(0, `${ref} does not exist, but ledger ConfigMap ${api.namespace}/${ledger} records its success at ${evidence.succeededAt}: starting`);
    }
    log(`${ref} does not exist (yet); waiting for it to be created and to complete: ${evidence.text}`);
  };
  setInterval(() => {
    if (missing && !checking) checkMissing();
  }, RECHECK_MS);
  const onJob = (job, deleted) => {
    const conditions = ((job || deleted || {}).status || {}).conditions || [];
    const condition = (type) => conditions.find((c) => c.type === type && c.status === 'True');
    if (condition('Complete')) return finish(0, `${ref} is Complete: the migration succeeded, starting`);
    // FailureTarget (Kubernetes 1.31+) comes before Failed, which waits for the pods to terminate;
    // either means the Job will not succeed. No retry here: the kubelet restarts this container.
    const failed = condition('Failed') || condition('FailureTarget');
    if (failed) {
      return finish(1, `${ref} failed (${failed.reason || 'no reason given'}: ${failed.message || 'no message'}); not starting. Read the migration's logs: kubectl logs -n ${api.namespace} job/${name} -c ${container}`);
    }
    if (job) {
      if (missing) log(`${ref} now exists; waiting for it to complete`);
      missing = false;
    } else if (!missing) {
      missing = true;
      if (!checking) checkMissing();
    }
  };
  log(`waiting for ${ref} to complete`);
  await follow('/apis/batch/v1', 'jobs', name, onJob, (err) =>
    finish(1, deniedMessage(err, ref, `list and watch on jobs (API group batch) named ${name} in namespace ${api.namespace}`)));
}

// Keeps the newest `max` ledger entries (this one included). Keys whose value is not a ledger
// entry belong to someone else and are kept as they are.
function withEntry(data, name, entry, max) {
  const isJobName = (key) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(key);
  const others = Object.keys(data)
    .filter((key) => key !== name && isJobName(key) && ledgerEntry(data[key]))
    .sort((a, b) => ledgerEntry(data[b]).succeededAt.localeCompare(ledgerEntry(data[a]).succeededAt));
  const result = Object.assign({}, data, { [name]: JSON.stringify(entry) });
  for (const key of others.slice(Math.max(max - 1, 0))) delete result[key];
  return result;
}

function count(name, fallback, min) {
  const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
  if (!Number.isInteger(value) || value < min) finish(2, `${name} must be a whole number >= ${min}, got ${JSON.stringify(env[name])}`);
  return value;
}

async function recordSuccess() {
  const name = required('MIGRATION_JOB');
  const ledger = required('MIGRATION_LEDGER');
  const max = count('LEDGER_MAX_ENTRIES', 20, 1);
  const waitSeconds = count('LEDGER_WAIT_SECONDS', 120, 0);
  if (finishing) return;
  const ref = `ledger ConfigMap ${api.namespace}/${ledger}`;
  const path = `/api/v1/namespaces/${api.namespace}/configmaps/${ledger}`;
  const entry = { succeededAt: new Date().toISOString() };
  if (env.MIGRATION_IMAGE) entry.image = env.MIGRATION_IMAGE;
  const deadline = Date.now() + waitSeconds * 1000;
  // Recording is best effort: the migration itself succeeded, and failing here would fail the Job
  // and with it a Helm or Argo CD release. So every way out exits 0, with a WARNING when it failed.
  const consequence = `The migration succeeded, but once Job ${api.namespace}/${name} is deleted, new pods of this release will wait for it`;
  const problems = problemLog(ref);
  let conflicts = 0;
  let problem = '';
  let mayCreate = true;
  let waitLogged = false;
  for (;;) {
    try {
      if (problem === 'missing' && mayCreate) {
        // Under Helm and Argo CD the chart leaves the ledger out and this program creates it: their
        // hook Job runs before the release's objects exist. Elsewhere the Role allows no create
        // (403): the ledger is applied with the Job, so wait for it. No labels: Argo CD's tracking
        // label (app.kubernetes.io/instance) would make it the app's, to be pruned.
        try {
          await send('POST', `/api/v1/namespaces/${api.namespace}/configmaps`,
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ledger }, data: withEntry({}, name, entry, max) });
          return finish(0, `created ${ref} and recorded the success of Job ${api.namespace}/${name} at ${entry.succeededAt}`);
        } catch (err) {
          if (err.status === 401 || err.status === 403) mayCreate = false;
          else if (err.status !== 409) throw err;
        }
      }
      const configMap = await send('GET', path);
      configMap.data = withEntry(configMap.data || {}, name, entry, max);
      delete configMap.metadata.managedFields;
      // PUT with the resourceVersion we read: a concurrent writer makes it fail with 409, not lose
      // its entry.
      await send('PUT', path, configMap);
      return finish(0, `recorded the success of Job ${api.namespace}/${name} at ${entry.succeededAt} in ${ref}`);
    } catch (err) {
      if (!retryable(err)) {
        return finish(0, `WARNING: could not record the migration's success in ${ref} (${describe(err)}): the service account needs get and update on configmaps named ${ledger}. ${consequence}`);
      }
      if (err.status === 404 && problem !== 'missing' && mayCreate) {
        problem = 'missing';
        continue;
      }
      if (err.status === 404 && !waitLogged) {
        waitLogged = true;
        log(`${ref} does not exist yet; retrying for up to ${waitSeconds} s`);
      }
      problem = err.status === 404 ? 'missing' : describe(err);
      if (err.status !== 404 && err.status !== 409) problems.report(err);
    }
    if (Date.now() >= deadline) {
      return finish(0, `WARNING: could not record the migration's success in ${ref} within LEDGER_WAIT_SECONDS=${waitSeconds}: ${problem === 'missing' ? 'it does not exist' : problem}. ${consequence}`);
    }
    // A conflict is no fault: another writer just succeeded, so read again soon, unless it keeps
    // happening. Everything else waits as the retry policy says.
    const conflict = problem.startsWith('HTTP 409') && ++conflicts <= 5;
    const pause = conflict ? 100 + Math.random() * 200 : retryDelayMs();
    await sleep(Math.min(pause, Math.max(deadline - Date.now(), 0)));
  }
}

const WORKLOAD_PLURALS = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

// Whether a workload has rolled out `release` everywhere: { done, text } with text for the log.
function rolloutProgress(kind, name, obj, release) {
  const label = `${kind} ${name}`;
  if (!obj) return { done: false, text: `${label}: does not exist (yet)` };
  const spec = obj.spec || {};
  const status = obj.status || {};
  const initContainers = ((spec.template || {}).spec || {}).initContainers || [];
  const isRelease = initContainers.some((c) => (c.env || []).some((e) => e.name === 'MIGRATION_JOB' && e.value === release));
  if (!isRelease) return { done: false, text: `${label}: its pod template is not this release's yet (no init container waits for Job ${release})` };
  const generation = (obj.metadata || {}).generation || 0;
  if ((status.observedGeneration || 0) < generation) {
    return { done: false, text: `${label}: its controller has not yet observed generation ${generation}` };
  }
  let done;
  let text;
  if (kind === 'DaemonSet') {
    const desired = status.desiredNumberScheduled || 0;
    const updated = status.updatedNumberScheduled || 0;
    const available = status.numberAvailable || 0;
    const unavailable = status.numberUnavailable || 0;
    done = updated === desired && available === desired && unavailable === 0;
    text = `${label}: ${updated}/${desired} updated, ${available} available, ${unavailable} unavailable`;
  } else {
    const wanted = spec.replicas === undefined || spec.replicas === null ? 1 : spec.replicas;
    const updated = status.updatedReplicas || 0;
    const available = status.availableReplicas || 0;
    const total = status.replicas || 0;
    // status.replicas counts the pods of every ReplicaSet or revision, so total == wanted means
    // none of the previous release is left.
    done = updated === wanted && total === wanted && available === wanted;
    text = `${label}: ${updated}/${wanted} updated, ${available} available, ${total} total`;
    if (kind === 'StatefulSet') {
      const ready = status.readyReplicas || 0;
      done = done && ready === wanted;
      text += `, ${ready} ready`;
      // Under OnDelete the controller never moves currentRevision, so the counts decide alone.
      // A RollingUpdate partition above 0 holds the rollout back by design: this keeps waiting.
      const onDelete = (spec.updateStrategy || {}).type === 'OnDelete';
      if (!onDelete && status.currentRevision !== status.updateRevision) {
        done = false;
        text += `, revision ${status.currentRevision} -> ${status.updateRevision}`;
      }
    }
    const stalled = (status.conditions || []).find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
    if (stalled) text += ' (ProgressDeadlineExceeded: is the pre-deploy migration failing?)';
  }
  return { done, text: done ? `${text}: rolled out` : text };
}

async function waitForRollout() {
  const release = required('RELEASE_MIGRATION_JOB');
  const listed = required('ROLLOUT_WORKLOADS');
  if (finishing) return;
  let workloads;
  try {
    workloads = JSON.parse(listed);
  } catch (err) {
    workloads = null;
  }
  const valid = Array.isArray(workloads) && workloads.length > 0 &&
    workloads.every((w) => w && Object.prototype.hasOwnProperty.call(WORKLOAD_PLURALS, w.kind) && typeof w.name === 'string' && w.name);
  if (!valid) {
    return finish(2, `ROLLOUT_WORKLOADS must be a JSON array of {"kind":"Deployment"|"StatefulSet"|"DaemonSet","name":"..."}, got ${listed}`);
  }
  const unique = new Map(workloads.map((w) => [`${w.kind} ${w.name}`, w]));
  const progress = new Map([...unique.keys()].map((key) => [key, null]));
  const summary = () => [...progress.values()].filter((p) => !p.done).map((p) => p.text).join('; ');
  let reported = false;
  const update = (key, value) => {
    progress.set(key, value);
    const known = [...progress.values()];
    if (known.every((p) => p && p.done)) {
      return finish(0, `every workload has rolled out release ${release}: ${known.map((p) => p.text).join('; ')}`);
    }
    if (!reported && known.every((p) => p)) {
      reported = true;
      log(`waiting: ${summary()}`);
    }
  };
  setInterval(() => {
    if (reported) log(`still waiting: ${summary()}`);
  }, RECHECK_MS);
  log(`waiting for ${[...progress.keys()].join(', ')} to roll out release ${release} (pods gated on Job ${release})`);
  await Promise.all([...unique].map(([key, { kind, name }]) => {
    const plural = WORKLOAD_PLURALS[kind];
    return follow('/apis/apps/v1', plural, name, (obj) => update(key, rolloutProgress(kind, name, obj, release)), (err) =>
      finish(1, deniedMessage(err, `${kind} ${api.namespace}/${name}`, `list and watch on ${plural} (API group apps) named ${name} in namespace ${api.namespace}`)));
  }));
}

const MODES = new Map([['job', waitForJob], ['record', recordSuccess], ['rollout', waitForRollout]]);

function main() {
  // In a container this process is PID 1, and the kernel drops signals that PID 1 has no handler
  // for: without these, deleting the pod waits out its whole grace period.
  process.on('SIGTERM', () => process.exit(143));
  process.on('SIGINT', () => process.exit(130));
  // `node -e <text> <mode>` puts the mode at argv[1]; `node migration-waiter.js <mode>` at argv[2].
  const mode = process.argv[__filename === '[eval]' ? 1 : 2];
  const run = MODES.get(mode);
  if (!run) return finish(2, `unknown mode ${JSON.stringify(mode)}: the first argument must be job, record or rollout`);
  graceMs = count('WAITER_GRACE_SECONDS', 60, 0) * 1000;
  if (finishing) return;
  api = connection();
  if (!api) return;
  lastContact = Date.now();
  run().catch((err) => finish(1, `unexpected error: ${err && err.stack ? err.stack.replace(/\n\s*/g, ' | ') : err}`));
}

module.exports = { rolloutProgress, withEntry, ledgerEntry, retryDelayMs };
if (require.main === module || __filename === '[eval]') main();
