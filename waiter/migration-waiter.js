// Generated from src/program by `npx projen bundle:program`: edit the TypeScript there, not this file.
"use strict";

// src/program/log.ts
var PROGRAM = "migration-waiter";
var finishing = false;
function finished() {
  return finishing;
}
function stamp(text) {
  return `${(/* @__PURE__ */ new Date()).toISOString()} ${PROGRAM}: ${text}
`;
}
function log(text) {
  if (!finishing) process.stdout.write(stamp(text));
}
function warn(text) {
  if (!finishing) process.stderr.write(stamp(text));
}
function finish(code, text) {
  if (!finishing) {
    finishing = true;
    const stream = code === 0 && !text.startsWith("WARNING") ? process.stdout : process.stderr;
    stream.write(stamp(text), () => process.exit(code));
    setTimeout(() => process.exit(code), 1e3);
  }
  return new Promise(() => {
  });
}

// src/program/config.ts
var env = process.env;
var WATCH_SECONDS = Number(env.WAITER_WATCH_SECONDS) || 240;
var RECHECK_MS = (Number(env.WAITER_RECHECK_SECONDS) || 30) * 1e3;
function required(name) {
  const value = env[name];
  if (!value) void finish(2, `environment variable ${name} is not set (see src/program/README.md)`);
  return value ?? "";
}
function count(name, fallback, min) {
  const value = env[name] === void 0 || env[name] === "" ? fallback : Number(env[name]);
  if (!Number.isInteger(value) || value < min) void finish(2, `${name} must be a whole number >= ${min}, got ${JSON.stringify(env[name])}`);
  return value;
}

// src/program/errors.ts
function apiError(status, body, text) {
  const message = body && body.message || String(text || "").slice(0, 300) || "no message";
  return Object.assign(new Error(message), { status, reason: body && body.reason });
}
function describe(err) {
  if (err.status) return `HTTP ${err.status}${err.reason ? ` ${err.reason}` : ""}: ${err.message}`;
  return err.code ? `${err.code}: ${err.message}` : err.message;
}
function deniedMessage(err, what, rule) {
  if (err.status === 401) {
    return `the API server rejected the service account token (401 Unauthorized) while reading ${what}: the token must be mounted (automountServiceAccountToken: true) and current; outside a pod, check WAITER_TOKEN_FILE`;
  }
  return `forbidden to read ${what} (403: ${err.message}): the pod's service account needs ${rule}, and its token must be mounted (automountServiceAccountToken: true)`;
}

// src/program/retry.ts
var graceMs = 6e4;
var lastContact = Date.now();
function setGraceMs(ms) {
  graceMs = ms;
}
function contact(now = Date.now()) {
  lastContact = now;
}
var sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function retryDelayMs() {
  return 500 + Math.random() * 1e3;
}
function retryable(err, now = Date.now()) {
  if (err.status === 401 || err.status === 403) return now - lastContact <= graceMs;
  return true;
}
function problemLog(subject) {
  let current = "";
  return {
    report(err) {
      const key = String(err.status || err.code || err.message);
      if (key === current) return;
      current = key;
      const denied = err.status === 401 || err.status === 403;
      const final = ` (an API server that is starting denies requests for a moment; after ${graceMs / 1e3} s without a good answer this is final)`;
      warn(`${subject}: ${describe(err)}; retrying about once a second${denied ? final : ""}`);
    },
    over() {
      if (current) log(`${subject}: the API server answers again`);
      current = "";
    }
  };
}

// src/program/watch-stream.ts
function watchStreamReader(onEvent) {
  let text = "";
  return (chunk) => {
    text += chunk;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n")) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (line.trim()) onEvent(JSON.parse(line));
    }
  };
}

// src/program/api.ts
var fs = require("fs");
var https = require("https");
var SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
var api;
function connection() {
  if (api === void 0) throw new Error("connect() has not run");
  return api;
}
function connect() {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    void finish(2, "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: run in a pod, or set them to reach the API server (see src/program/README.md)");
    return false;
  }
  const tokenFile = env.WAITER_TOKEN_FILE || `${SA_DIR}/token`;
  const caFile = env.WAITER_CA_FILE || `${SA_DIR}/ca.crt`;
  const namespaceFile = `${SA_DIR}/namespace`;
  try {
    fs.accessSync(tokenFile, fs.constants.R_OK);
    const ca = fs.readFileSync(caFile);
    const namespace = env.WAITER_NAMESPACE || fs.readFileSync(namespaceFile, "utf8").trim();
    api = {
      host: host.replace(/^\[(.*)\]$/, "$1"),
      port: Number(port),
      ca,
      tokenFile,
      namespace,
      agent: new https.Agent({ keepAlive: true })
    };
    return true;
  } catch (e) {
    const err = e;
    void finish(2, `cannot read ${err.path || "the service account files"} (${err.code}): the pod needs its service account token mounted (automountServiceAccountToken: true); outside a pod, set WAITER_TOKEN_FILE, WAITER_CA_FILE and WAITER_NAMESPACE`);
    return false;
  }
}
function send(method, path, body, onEvent) {
  return new Promise((resolve, reject) => {
    const { host, port, ca, agent, tokenFile } = connection();
    let token;
    try {
      token = fs.readFileSync(tokenFile, "utf8").trim();
    } catch (err) {
      return reject(err);
    }
    const headers = { "Authorization": `Bearer ${token}`, "Accept": "application/json", "User-Agent": PROGRAM };
    const payload = body ? JSON.stringify(body) : void 0;
    if (payload) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(payload);
    }
    const req = https.request({ host, port, ca, agent, method, path, headers }, (res) => {
      res.setEncoding("utf8");
      let text = "";
      const status = res.statusCode ?? 0;
      const stream = onEvent && status === 200 ? watchStreamReader(onEvent) : void 0;
      const isContact = status < 500 && status !== 401 && status !== 403 && status !== 429;
      const touch = () => {
        if (isContact) contact();
      };
      touch();
      res.on("close", touch);
      res.on("data", (chunk) => {
        touch();
        if (!stream) {
          text += chunk;
          return;
        }
        try {
          stream(chunk);
        } catch (err) {
          reject(err);
          req.destroy();
        }
      });
      res.on("end", () => {
        if (stream) return resolve(void 0);
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch (err) {
          parsed = void 0;
        }
        if (status >= 200 && status < 300 && parsed) resolve(parsed);
        else reject(apiError(status, parsed, text));
      });
      res.on("error", reject);
      res.on("close", () => {
        if (!res.complete) reject(Object.assign(new Error("the API server closed the connection mid-answer"), { code: "ECONNRESET" }));
      });
    });
    req.setTimeout(onEvent ? (WATCH_SECONDS + 60) * 1e3 : 3e4, () => req.destroy(Object.assign(new Error("no answer from the API server"), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    req.end(payload);
  });
}

// src/program/follow.ts
async function follow(group, plural, name, onChange, onDenied) {
  const base = `${group}/namespaces/${connection().namespace}/${plural}?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
  const problems = problemLog(`${plural} ${name}`);
  let resourceVersion = "";
  let goneBefore = false;
  for (; ; ) {
    let healthy = false;
    let retryNow = false;
    let gone = false;
    try {
      if (!resourceVersion) {
        const list = await send("GET", base);
        if (!list.metadata || !list.metadata.resourceVersion) throw new Error("the LIST answer has no resourceVersion");
        problems.over();
        onChange((list.items || [])[0] || null);
        resourceVersion = list.metadata.resourceVersion;
      }
      const opened = Date.now();
      const query = `&watch=1&allowWatchBookmarks=true&timeoutSeconds=${WATCH_SECONDS}&resourceVersion=${resourceVersion}`;
      await send("GET", base + query, null, (event) => {
        if (event.type === "ERROR") throw apiError(event.object && event.object.code, event.object);
        const meta = event.object && event.object.metadata || {};
        resourceVersion = meta.resourceVersion || resourceVersion;
        if (event.type === "ADDED" || event.type === "MODIFIED") onChange(event.object);
        if (event.type === "DELETED") onChange(null, event.object);
        if (event.type !== "BOOKMARK") healthy = true;
      });
      if (Date.now() - opened >= WATCH_SECONDS * 500) healthy = true;
    } catch (e) {
      const err = e;
      if (err.status === 410) {
        resourceVersion = "";
        gone = true;
        retryNow = !goneBefore || healthy;
        healthy = false;
      } else if (!retryable(err)) {
        return onDenied(err);
      } else {
        problems.report(err);
      }
    }
    if (finished()) return;
    goneBefore = gone;
    if (healthy) problems.over();
    else if (!retryNow) await sleep(retryDelayMs());
  }
}

// src/program/ledger.ts
function ledgerEntry(value) {
  try {
    const entry = JSON.parse(value);
    return entry && typeof entry.succeededAt === "string" ? entry : null;
  } catch (err) {
    return null;
  }
}
function withEntry(data, name, entry, max) {
  const isJobName = (key) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(key);
  const succeededAt = (key) => ledgerEntry(data[key]).succeededAt;
  const others = Object.keys(data).filter((key) => key !== name && isJobName(key) && ledgerEntry(data[key])).sort((a, b) => succeededAt(b).localeCompare(succeededAt(a)));
  const result = Object.assign({}, data, { [name]: JSON.stringify(entry) });
  for (const key of others.slice(Math.max(max - 1, 0))) delete result[key];
  return result;
}
async function readLedger(ledger, name, wanted) {
  const { namespace } = connection();
  const ref = `ledger ConfigMap ${namespace}/${ledger}`;
  if (!ledger) return { text: "no ledger configured (MIGRATION_LEDGER is unset), so no evidence of an earlier success" };
  const problems = problemLog(ref);
  for (; ; ) {
    try {
      const configMap = await send("GET", `/api/v1/namespaces/${namespace}/configmaps/${ledger}`);
      problems.over();
      const entry = ledgerEntry((configMap.data || {})[name]);
      return entry ? { succeededAt: entry.succeededAt } : { text: `${ref} has no record of its success` };
    } catch (e) {
      const err = e;
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

// src/program/job.ts
async function waitForJob() {
  const name = required("MIGRATION_JOB");
  const container = env.MIGRATION_CONTAINER || "migrate";
  const ledger = env.MIGRATION_LEDGER || "";
  if (finished()) return;
  const { namespace } = connection();
  const ref = `Job ${namespace}/${name}`;
  let missing = false;
  let checking = false;
  const checkMissing = async () => {
    checking = true;
    const evidence = await readLedger(ledger, name, () => missing && !finished());
    checking = false;
    if (!missing) return;
    if (evidence.succeededAt) {
      return finish(0, `${ref} does not exist, but ledger ConfigMap ${namespace}/${ledger} records its success at ${evidence.succeededAt}: starting`);
    }
    log(`${ref} does not exist (yet); waiting for it to be created and to complete: ${evidence.text}`);
    return;
  };
  setInterval(() => {
    if (missing && !checking) void checkMissing();
  }, RECHECK_MS);
  const onJob = (job, deleted) => {
    const conditions = ((job || deleted || {}).status || {}).conditions || [];
    const condition = (type) => conditions.find((c) => c.type === type && c.status === "True");
    if (condition("Complete")) return finish(0, `${ref} is Complete: the migration succeeded, starting`);
    const failed = condition("Failed") || condition("FailureTarget");
    if (failed) {
      return finish(1, `${ref} failed (${failed.reason || "no reason given"}: ${failed.message || "no message"}); not starting. Read the migration's logs: kubectl logs -n ${namespace} job/${name} -c ${container}`);
    }
    if (job) {
      if (missing) log(`${ref} now exists; waiting for it to complete`);
      missing = false;
    } else if (!missing) {
      missing = true;
      if (!checking) void checkMissing();
    }
    return;
  };
  log(`waiting for ${ref} to complete`);
  await follow("/apis/batch/v1", "jobs", name, onJob, (err) => finish(1, deniedMessage(err, ref, `list and watch on jobs (API group batch) named ${name} in namespace ${namespace}`)));
}

// src/program/record.ts
async function recordSuccess() {
  const name = required("MIGRATION_JOB");
  const ledger = required("MIGRATION_LEDGER");
  const max = count("LEDGER_MAX_ENTRIES", 20, 1);
  const waitSeconds = count("LEDGER_WAIT_SECONDS", 120, 0);
  if (finished()) return;
  const { namespace } = connection();
  const ref = `ledger ConfigMap ${namespace}/${ledger}`;
  const path = `/api/v1/namespaces/${namespace}/configmaps/${ledger}`;
  const entry = { succeededAt: (/* @__PURE__ */ new Date()).toISOString() };
  if (env.MIGRATION_IMAGE) entry.image = env.MIGRATION_IMAGE;
  const deadline = Date.now() + waitSeconds * 1e3;
  const consequence = `The migration succeeded, but once Job ${namespace}/${name} is deleted, new pods of this release will wait for it`;
  const problems = problemLog(ref);
  let conflicts = 0;
  let problem = "";
  let mayCreate = true;
  let waitLogged = false;
  for (; ; ) {
    try {
      if (problem === "missing" && mayCreate) {
        try {
          await send(
            "POST",
            `/api/v1/namespaces/${namespace}/configmaps`,
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: ledger }, data: withEntry({}, name, entry, max) }
          );
          return await finish(0, `created ${ref} and recorded the success of Job ${namespace}/${name} at ${entry.succeededAt}`);
        } catch (e) {
          const err = e;
          if (err.status === 401 || err.status === 403) mayCreate = false;
          else if (err.status !== 409) throw err;
        }
      }
      const configMap = await send("GET", path);
      configMap.data = withEntry(configMap.data || {}, name, entry, max);
      delete configMap.metadata.managedFields;
      await send("PUT", path, configMap);
      return await finish(0, `recorded the success of Job ${namespace}/${name} at ${entry.succeededAt} in ${ref}`);
    } catch (e) {
      const err = e;
      if (!retryable(err)) {
        return finish(0, `WARNING: could not record the migration's success in ${ref} (${describe(err)}): the service account needs get and update on configmaps named ${ledger}. ${consequence}`);
      }
      if (err.status === 404 && problem !== "missing" && mayCreate) {
        problem = "missing";
        continue;
      }
      if (err.status === 404 && !waitLogged) {
        waitLogged = true;
        log(`${ref} does not exist yet; retrying for up to ${waitSeconds} s`);
      }
      problem = err.status === 404 ? "missing" : describe(err);
      if (err.status !== 404 && err.status !== 409) problems.report(err);
    }
    if (Date.now() >= deadline) {
      return finish(0, `WARNING: could not record the migration's success in ${ref} within LEDGER_WAIT_SECONDS=${waitSeconds}: ${problem === "missing" ? "it does not exist" : problem}. ${consequence}`);
    }
    const conflict = problem.startsWith("HTTP 409") && ++conflicts <= 5;
    const pause = conflict ? 100 + Math.random() * 200 : retryDelayMs();
    await sleep(Math.min(pause, Math.max(deadline - Date.now(), 0)));
  }
}

// src/program/rollout.ts
var WORKLOAD_PLURALS = { Deployment: "deployments", StatefulSet: "statefulsets", DaemonSet: "daemonsets" };
function rolloutProgress(kind, name, obj, release) {
  const label = `${kind} ${name}`;
  if (!obj) return { done: false, text: `${label}: does not exist (yet)` };
  const spec = obj.spec || {};
  const status = obj.status || {};
  const initContainers = ((spec.template || {}).spec || {}).initContainers || [];
  const isRelease = initContainers.some((c) => (c.env || []).some((e) => e.name === "MIGRATION_JOB" && e.value === release));
  if (!isRelease) return { done: false, text: `${label}: its pod template is not this release's yet (no init container waits for Job ${release})` };
  const generation = (obj.metadata || {}).generation || 0;
  if ((status.observedGeneration || 0) < generation) {
    return { done: false, text: `${label}: its controller has not yet observed generation ${generation}` };
  }
  let done;
  let text;
  if (kind === "DaemonSet") {
    const desired = status.desiredNumberScheduled || 0;
    const updated = status.updatedNumberScheduled || 0;
    const available = status.numberAvailable || 0;
    const unavailable = status.numberUnavailable || 0;
    done = updated === desired && available === desired && unavailable === 0;
    text = `${label}: ${updated}/${desired} updated, ${available} available, ${unavailable} unavailable`;
  } else {
    const wanted = spec.replicas === void 0 || spec.replicas === null ? 1 : spec.replicas;
    const updated = status.updatedReplicas || 0;
    const available = status.availableReplicas || 0;
    const total = status.replicas || 0;
    done = updated === wanted && total === wanted && available === wanted;
    text = `${label}: ${updated}/${wanted} updated, ${available} available, ${total} total`;
    if (kind === "StatefulSet") {
      const ready = status.readyReplicas || 0;
      done = done && ready === wanted;
      text += `, ${ready} ready`;
      const onDelete = (spec.updateStrategy || {}).type === "OnDelete";
      if (!onDelete && status.currentRevision !== status.updateRevision) {
        done = false;
        text += `, revision ${status.currentRevision} -> ${status.updateRevision}`;
      }
    }
    const stalled = (status.conditions || []).find((c) => c.type === "Progressing" && c.reason === "ProgressDeadlineExceeded");
    if (stalled) text += " (ProgressDeadlineExceeded: is the pre-deploy migration failing?)";
  }
  return { done, text: done ? `${text}: rolled out` : text };
}
async function waitForRollout() {
  const release = required("RELEASE_MIGRATION_JOB");
  const listed = required("ROLLOUT_WORKLOADS");
  if (finished()) return;
  const { namespace } = connection();
  let workloads;
  try {
    workloads = JSON.parse(listed);
  } catch (err) {
    workloads = null;
  }
  const valid = Array.isArray(workloads) && workloads.length > 0 && workloads.every((w) => w && Object.prototype.hasOwnProperty.call(WORKLOAD_PLURALS, w.kind) && typeof w.name === "string" && w.name);
  if (!valid || !workloads) {
    return finish(2, `ROLLOUT_WORKLOADS must be a JSON array of {"kind":"Deployment"|"StatefulSet"|"DaemonSet","name":"..."}, got ${listed}`);
  }
  const unique = new Map(workloads.map((w) => [`${w.kind} ${w.name}`, w]));
  const progress = new Map([...unique.keys()].map((key) => [key, null]));
  const summary = () => [...progress.values()].filter((p) => !p.done).map((p) => p.text).join("; ");
  let reported = false;
  const update = (key, value) => {
    progress.set(key, value);
    const known = [...progress.values()];
    if (known.every((p) => p && p.done)) {
      return finish(0, `every workload has rolled out release ${release}: ${known.map((p) => p.text).join("; ")}`);
    }
    if (!reported && known.every((p) => p)) {
      reported = true;
      log(`waiting: ${summary()}`);
    }
    return;
  };
  setInterval(() => {
    if (reported) log(`still waiting: ${summary()}`);
  }, RECHECK_MS);
  log(`waiting for ${[...progress.keys()].join(", ")} to roll out release ${release} (pods gated on Job ${release})`);
  await Promise.all([...unique].map(([key, { kind, name }]) => {
    const plural = WORKLOAD_PLURALS[kind];
    return follow("/apis/apps/v1", plural, name, (obj) => update(key, rolloutProgress(kind, name, obj, release)), (err) => finish(1, deniedMessage(err, `${kind} ${namespace}/${name}`, `list and watch on ${plural} (API group apps) named ${name} in namespace ${namespace}`)));
  }));
}

// src/program/main.ts
var MODES = /* @__PURE__ */ new Map([
  ["job", waitForJob],
  ["record", recordSuccess],
  ["rollout", waitForRollout]
]);
function alternatives(words) {
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}` : words.join("");
}
function main() {
  process.on("SIGTERM", () => process.exit(143));
  process.on("SIGINT", () => process.exit(130));
  const mode = process.argv[__filename === "[eval]" ? 1 : 2];
  const run = MODES.get(mode);
  if (!run) {
    void finish(2, `unknown mode ${JSON.stringify(mode)}: the first argument must be ${alternatives([...MODES.keys()])}`);
    return;
  }
  setGraceMs(count("WAITER_GRACE_SECONDS", 60, 0) * 1e3);
  if (finished()) return;
  if (!connect()) return;
  contact();
  run().catch((err) => finish(1, `unexpected error: ${err && err.stack ? err.stack.replace(/\n\s*/g, " | ") : err}`));
}
module.exports = { rolloutProgress, withEntry, ledgerEntry, retryDelayMs };
if (require.main === module || __filename === "[eval]") main();
