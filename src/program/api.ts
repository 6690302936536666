/**
 * The client of the Kubernetes API: the connection from the pod's service account, and one request.
 */
// `import x = require()` bundles to a plain `const x = require("x")`, without esbuild's ESM interop helpers.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import fs = require('fs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
import https = require('https');
import { env, WATCH_SECONDS } from './config';
import { apiError, ProgramError } from './errors';
import { finish, PROGRAM } from './log';
import { contact } from './retry';
import { WatchEvent, watchStreamReader } from './watch-stream';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where and as whom the program reaches the API server. */
export interface Connection {
  readonly host: string;
  readonly port: number;
  readonly ca: Buffer;
  readonly tokenFile: string;
  readonly namespace: string;
  readonly agent: https.Agent;
}

let api: Connection | undefined;
let serverClock: { readonly date: number; readonly at: number } | undefined;

/**
 * The API server's time now, in ms: its last answer's Date header plus the time since, by this
 * pod's clock (which may be off, but counts seconds as well). Undefined before the first answer.
 * The header has whole seconds, so this is up to a second behind, never ahead.
 */
export function serverNow(now: number = Date.now()): number | undefined {
  return serverClock && serverClock.date + (now - serverClock.at);
}

/** The connection that connect() opened. */
export function connection(): Connection {
  if (api === undefined) throw new Error('connect() has not run');
  return api;
}

/**
 * Reads the API server's address, the CA and the namespace from the environment and the service
 * account's files. Returns false after finish(2) when they are missing.
 */
export function connect(): boolean {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    void finish(2, 'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: run in a pod, or set them to reach the API server (see src/program/README.md)');
    return false;
  }
  const tokenFile = env.WAITER_TOKEN_FILE || `${SA_DIR}/token`;
  const caFile = env.WAITER_CA_FILE || `${SA_DIR}/ca.crt`;
  const namespaceFile = `${SA_DIR}/namespace`;
  try {
    fs.accessSync(tokenFile, fs.constants.R_OK);
    const ca = fs.readFileSync(caFile);
    const namespace = env.WAITER_NAMESPACE || fs.readFileSync(namespaceFile, 'utf8').trim();
    api = {
      host: host.replace(/^\[(.*)\]$/, '$1'),
      port: Number(port),
      ca,
      tokenFile,
      namespace,
      agent: new https.Agent({ keepAlive: true }),
    };
    return true;
  } catch (e) {
    const err = e as ProgramError;
    void finish(2, `cannot read ${err.path || 'the service account files'} (${err.code}): the pod needs its service account token mounted (automountServiceAccountToken: true); outside a pod, set WAITER_TOKEN_FILE, WAITER_CA_FILE and WAITER_NAMESPACE`);
    return false;
  }
}

// One API request. Without onEvent it resolves with the parsed body (2xx) or rejects with an error
// carrying the HTTP status. With onEvent it is a watch: each line of the chunked 200 answer is one
// event; it resolves when the server ends the stream and rejects when the connection breaks.
// onDate gets the time of the answer by the API server's clock (its Date header, whole seconds).
export function send(method: string, path: string, body?: object | null, onEvent?: (event: WatchEvent) => void,
  onDate?: (serverTime: number) => void): Promise<any> {
  return new Promise((resolve, reject) => {
    const { host, port, ca, agent, tokenFile } = connection();
    let token: string;
    try {
      token = fs.readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      return reject(err);
    }
    const headers: Record<string, string | number> = { 'Authorization': `Bearer ${token}`, 'Accept': 'application/json', 'User-Agent': PROGRAM };
    const payload = body ? JSON.stringify(body) : undefined;
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const req = https.request({ host, port, ca, agent, method, path, headers }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      const status = res.statusCode ?? 0;
      const date = Date.parse(res.headers.date ?? '');
      if (!Number.isNaN(date)) {
        serverClock = { date, at: Date.now() };
        if (onDate) onDate(date);
      }
      const stream = onEvent && status === 200 ? watchStreamReader(onEvent) : undefined;
      // Any answer but a denial or a server error shows the API server up and authorizing. An open
      // watch is contact for as long as it lasts.
      const isContact = status < 500 && status !== 401 && status !== 403 && status !== 429;
      const touch = () => {
        if (isContact) contact();
      };
      touch();
      res.on('close', touch);
      res.on('data', (chunk: string) => {
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
      res.on('end', () => {
        if (stream) return resolve(undefined);
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch (err) {
          parsed = undefined;
        }
        if (status >= 200 && status < 300 && parsed) resolve(parsed);
        else reject(apiError(status, parsed, text));
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
