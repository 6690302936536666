/** The errors of API requests and how the program describes them. */

/**
 * An error of a request: `status` (and `reason`) when the API server answered, `code` when the
 * connection failed (ECONNREFUSED, ECONNRESET, ETIMEDOUT, or a file error such as ENOENT).
 */
export interface ProgramError extends Error {
  status?: number;
  reason?: string;
  code?: string;
  path?: string;
}

/** A Kubernetes `Status` object, as far as the program reads it. */
export interface StatusBody {
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
}

export function apiError(status: number | undefined, body: StatusBody | undefined, text?: string): ProgramError {
  const message = (body && body.message) || String(text || '').slice(0, 300) || 'no message';
  return Object.assign(new Error(message), { status, reason: body && body.reason });
}

export function describe(err: ProgramError): string {
  if (err.status) return `HTTP ${err.status}${err.reason ? ` ${err.reason}` : ''}: ${err.message}`;
  return err.code ? `${err.code}: ${err.message}` : err.message;
}

/** The final message for a 401 or 403 that outlasted the grace window while reading `what`, which needs `rule`. */
export function deniedMessage(err: ProgramError, what: string, rule: string): string {
  if (err.status === 401) {
    return `the API server rejected the service account token (401 Unauthorized) while reading ${what}: the token must be mounted (automountServiceAccountToken: true) and current; outside a pod, check WAITER_TOKEN_FILE`;
  }
  // A request without credentials is not 401 but 403 as system:anonymous: no RBAC rule is missing
  // then, the token is (an empty token file sends none).
  if (/User "system:anonymous"/.test(err.message)) {
    return `the API server saw no credentials while reading ${what} (403 as system:anonymous: ${err.message}): the service account token was not sent, so its file is empty; the token must be mounted (automountServiceAccountToken: true); outside a pod, check WAITER_TOKEN_FILE`;
  }
  return `forbidden to read ${what} (403: ${err.message}): the pod's service account needs ${rule}, and its token must be mounted (automountServiceAccountToken: true)`;
}
