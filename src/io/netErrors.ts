/**
 * Network failures in words a person can act on. `fetch failed`, `request_error` and
 * `ENOTFOUND` say nothing about which host, why, or what to do (issue 14); the answer is in the
 * error's cause chain (`cause`, or @slack/web-api's `original`), which this reads.
 */

export type NetworkCause = 'refused' | 'dns' | 'certificate' | 'timeout' | 'reset' | 'unreachable' | 'proxy';

export interface NetworkProblem {
  cause: NetworkCause;
  /** The code found in the chain (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, ...), if any. */
  code: string | null;
  /** Short description of the cause. */
  what: string;
  /** What to do about it. */
  advice: string;
}

const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

const BY_CODE: Record<string, NetworkCause> = {
  ECONNREFUSED: 'refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
};

const TEXT: Record<NetworkCause, { what: string; advice: string }> = {
  refused: { what: 'connection refused', advice: 'check the address and port, and that the server is running' },
  dns: {
    what: 'the host name does not resolve (DNS)',
    advice: 'check the host name and DNS; if egress goes through a proxy, set HTTPS_PROXY (and NO_PROXY for in-cluster hosts)',
  },
  certificate: {
    what: 'its TLS certificate is not trusted',
    advice: 'behind an intercepting proxy or with a private CA, point NODE_EXTRA_CA_CERTS at a PEM file of the CA (for the cluster: the kubeconfig certificate-authority)',
  },
  timeout: { what: 'no answer in time (timeout)', advice: 'check firewalls, NetworkPolicies and the proxy (HTTPS_PROXY, NO_PROXY)' },
  reset: { what: 'the connection was closed or reset', advice: 'usually transient; if it lasts, check the proxy or load balancer in between' },
  unreachable: { what: 'the network is unreachable', advice: 'check routes and egress rules, or set HTTPS_PROXY' },
  proxy: { what: 'the proxy refused the connection', advice: 'check HTTPS_PROXY (address, credentials) and NO_PROXY' },
};

interface Link {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  original?: unknown;
}

/** The error and its causes, outermost first (at most 8). */
export function causeChain(err: unknown): Link[] {
  const out: Link[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 8 && cur !== null && typeof cur === 'object'; i++) {
    const link = cur as Link;
    out.push(link);
    cur = link.original ?? link.cause;
  }
  return out;
}

/** Why a request did not get through, or null when the error is not a network failure. */
export function networkProblem(err: unknown): NetworkProblem | null {
  for (const link of causeChain(err)) {
    const code = typeof link.code === 'string' ? link.code : null;
    const message = typeof link.message === 'string' ? link.message : '';
    let cause: NetworkCause | undefined;
    if (code !== null && CERTIFICATE_CODES.has(code)) cause = 'certificate';
    else if (code !== null && BY_CODE[code] !== undefined) cause = BY_CODE[code];
    else if (link.name === 'TimeoutError' || /timed? ?out/i.test(message)) cause = 'timeout';
    else if (/proxy response \(\d+\)|tunneling socket|proxy/i.test(message) && /\b(40[37]|50[23])\b|refused|failed/i.test(message)) cause = 'proxy';
    else if (/certificate|self[- ]signed/i.test(message)) cause = 'certificate';
    if (cause !== undefined) return { cause, code, ...TEXT[cause] };
  }
  return null;
}

/** The host of a URL (`host:port`), or the text itself when it is not one. */
export function hostOf(target: string | URL): string {
  try {
    return new URL(target).host;
  } catch {
    return String(target);
  }
}

/**
 * One line: `cannot reach HOST: WHAT (CODE): ADVICE`. For an error that is not a network
 * failure, `HOST: MESSAGE`.
 */
export function describeConnectionError(err: unknown, target: string | URL): string {
  const host = hostOf(target);
  const problem = networkProblem(err);
  if (problem === null) {
    const messages = causeChain(err).map((l) => (typeof l.message === 'string' ? l.message : '')).filter((m) => m !== '');
    return `${host}: ${messages.length > 0 ? [...new Set(messages)].join(': ') : String(err)}`;
  }
  return `cannot reach ${host}: ${problem.what}${problem.code !== null ? ` (${problem.code})` : ''}: ${problem.advice}`;
}
