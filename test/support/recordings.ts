/**
 * Recordings of a real kube-apiserver 1.32 and its controller manager (test/fixtures/k8s-api, whose
 * README says how they were made and what a fake must reproduce), and what a test compares of an answer: the parts that do not change
 * from run to run (status codes, content types, which fields are present, Status bodies, watch
 * event types and order, Job conditions' order), not uids, timestamps or resourceVersion values.
 */
import { existsSync, readdirSync, readFileSync } from 'fs';
import { request } from 'https';
import { join } from 'path';
import { CA_FILE, KubeObject } from './fake-api-server';

export const RECORDINGS_DIR = join(__dirname, '..', 'fixtures', 'k8s-api', 'recordings');

export interface RecordedRequest {
  readonly method?: string;
  readonly path?: string;
  readonly body?: KubeObject;
  readonly command?: string;
  readonly stdin?: KubeObject;
}

export interface RecordedEvent {
  readonly t_ms: number;
  readonly event: { readonly type: string; readonly object: KubeObject };
}

export interface Recording {
  readonly title: string;
  readonly why?: string;
  readonly identity: string;
  readonly request: RecordedRequest;
  readonly response: {
    readonly status?: number;
    readonly headers?: Record<string, string>;
    readonly body?: KubeObject;
    readonly body_text?: string;
    readonly events?: RecordedEvent[];
    readonly stream_end?: { readonly t_ms: number; readonly closed_by: 'server' | 'client' };
    readonly exitCode?: number;
    readonly stdout?: string;
    readonly stderr?: string;
  };
  readonly actions?: Array<{ readonly t_ms: number; readonly action: string }>;
}

export interface RecordingFile {
  readonly file: string;
  readonly item: string;
  readonly recordings: Recording[];
}

/** Every recording file, in name order; throws (the test fails) when the folder is missing. */
export function loadRecordings(): RecordingFile[] {
  if (!existsSync(RECORDINGS_DIR)) {
    throw new Error(`the recordings of the real API server are missing: expected ${RECORDINGS_DIR} (test/fixtures/k8s-api/recordings, committed with the tests)`);
  }
  return readdirSync(RECORDINGS_DIR).filter((f) => f.endsWith('.json')).sort().map((file) => {
    const data = JSON.parse(readFileSync(join(RECORDINGS_DIR, file), 'utf8'));
    return { file, item: data.item, recordings: data.recordings };
  });
}

/** A header of a recorded or received answer, whatever the case of its name. */
export function header(headers: Record<string, string | string[] | undefined> | undefined, name: string): string | undefined {
  const found = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase());
  const value = found?.[1];
  return Array.isArray(value) ? value.join(', ') : value;
}

const WHOLE_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** Every timestamp of an object (a `...Time`/`...Timestamp`/`time` field holding a string) is whole seconds. */
function timestampsWholeSeconds(value: KubeObject, key = ''): boolean {
  if (typeof value === 'string') return !/(Time|Timestamp|^time)$/.test(key) || WHOLE_SECONDS.test(value);
  if (Array.isArray(value)) return value.every((v) => timestampsWholeSeconds(v, key));
  if (value && typeof value === 'object') return Object.entries(value).every(([k, v]) => timestampsWholeSeconds(v, k));
  return true;
}

/** A Status message with its run-dependent numbers (resourceVersions) replaced. */
function message(text: string | undefined): string | undefined {
  return text?.replace(/\(\d+\)/g, '(N)').replace(/current: \d+/g, 'current: N').replace(/version: \d{3,}/g, 'version: N');
}

function statusShape(status: KubeObject): KubeObject {
  const details = status.details && { ...status.details, ...(status.details.uid ? { uid: '<uid>' } : {}) };
  const { kind, apiVersion, reason, code } = status;
  return { kind, apiVersion, status: status.status, reason, code, message: message(status.message), details };
}

function jobStatusShape(status: KubeObject): KubeObject {
  if (!status) return status;
  return {
    fields: Object.keys(status).sort(),
    conditions: (status.conditions ?? []).map((c: KubeObject) => `${c.type}=${c.status} ${c.reason}`),
    uncounted: Object.keys(status.uncountedTerminatedPods ?? {}).sort(),
    active: status.active,
    succeeded: status.succeeded,
    failed: status.failed,
    terminating: status.terminating,
  };
}

/** A pod the Job controller named: its generateName and a star, the suffix being random. */
function nameOf(metadata: KubeObject): string | undefined {
  return metadata?.generateName && metadata.name?.startsWith(metadata.generateName) ? `${metadata.generateName}*` : metadata?.name;
}

const PRESENCE = ['resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'ownerReferences', 'finalizers'];

/** What the conformance test compares of one object. */
export function objectShape(object: KubeObject): KubeObject {
  if (!object || typeof object !== 'object') return object;
  if (object.kind === 'Status') return statusShape(object);
  const m = object.metadata ?? {};
  const shape: KubeObject = {
    kind: object.kind,
    apiVersion: object.apiVersion,
    name: nameOf(m),
    metadata: PRESENCE.filter((k) => k in m),
    finalizers: m.finalizers,
    deletionGracePeriodSeconds: m.deletionGracePeriodSeconds,
    initialEventsEnd: m.annotations?.['k8s.io/initial-events-end'],
    wholeSeconds: timestampsWholeSeconds(object),
  };
  if (!m.name) return { ...shape, spec: object.spec, status: object.status };
  if (object.kind === 'Job') {
    const { parallelism, completions, completionMode, suspend, manualSelector, podReplacementPolicy, podFailurePolicy, selector } = object.spec ?? {};
    const selected = Object.keys(selector?.matchLabels ?? {});
    shape.spec = { parallelism, completions, completionMode, suspend, manualSelector, podReplacementPolicy, podFailurePolicy, selector: selected };
    shape.status = jobStatusShape(object.status);
  }
  if (object.kind === 'Pod') shape.status = { phase: object.status?.phase, fields: Object.keys(object.status ?? {}).sort() };
  if (object.kind === 'SubjectAccessReview') {
    shape.spec = object.spec;
    shape.status = { allowed: object.status?.allowed, reason: object.status?.reason?.replace(/".*$/, '...') };
  }
  return shape;
}

/** What the conformance test compares of a response body: a Status, a List, or one object. */
export function bodyShape(body: KubeObject): KubeObject {
  if (!body || typeof body !== 'object' || !Array.isArray(body.items)) return objectShape(body);
  return {
    kind: body.kind,
    apiVersion: body.apiVersion,
    metadata: Object.keys(body.metadata ?? {}).sort(),
    items: body.items.map((i: KubeObject) => ({ name: nameOf(i.metadata), kind: i.kind, apiVersion: i.apiVersion, resourceVersion: 'resourceVersion' in (i.metadata ?? {}) }))
      .sort((a: KubeObject, b: KubeObject) => String(a.name).localeCompare(String(b.name))),
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One HTTPS request to the fake server, as the recordings were made (`Accept: application/json`). */
export function send(port: number, method: string, path: string, token: string | undefined, body?: KubeObject): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method,
      path,
      ca: readFileSync(CA_FILE),
      headers: {
        'Accept': 'application/json',
        'User-Agent': 'migration-waiter',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** An open watch: its status and headers, the events so far with their time, and how it ended. */
export class WatchStream {
  public status = 0;
  public headers: Record<string, string | string[] | undefined> = {};
  public readonly events: Array<{ t: number; event: KubeObject }> = [];
  public text = '';
  public closedBy?: 'server' | 'client';
  public readonly started = Date.now();
  public readonly ended: Promise<void>;
  public readonly opened: Promise<void>;
  private destroy?: () => void;

  constructor(port: number, path: string, token: string | undefined) {
    let opened!: () => void;
    this.opened = new Promise((resolve) => (opened = resolve));
    this.ended = new Promise((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'GET',
        path,
        ca: readFileSync(CA_FILE),
        headers: { 'Accept': 'application/json', 'User-Agent': 'migration-waiter', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      }, (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        opened();
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          this.text += chunk;
          if (this.status !== 200) return;
          buffer += chunk;
          let newline: number;
          while ((newline = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            if (line.trim()) this.events.push({ t: Date.now() - this.started, event: JSON.parse(line) });
          }
        });
        res.on('end', () => {
          this.closedBy = this.closedBy ?? 'server';
          resolve();
        });
        res.on('close', () => resolve());
      });
      req.on('error', () => {
        opened();
        resolve();
      });
      req.end();
      this.destroy = () => {
        this.closedBy = this.closedBy ?? 'client';
        req.destroy();
      };
    });
  }

  public close(): void {
    this.destroy?.();
  }
}
