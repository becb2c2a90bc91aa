import { timingSafeEqual } from 'node:crypto';
import { HttpRuntimeError } from './http-errors.js';
import type { Scope } from './route.js';
import { type Credential, type RuntimeToken, TOKEN_SCOPES, toCredentials, tokenDigest } from './tokens.js';

/** What the gate needs to know to admit a request (SPEC §8). */
export interface GateOptions {
  /** One bearer token with scope `admin` (kept for compatibility; `tokens` holds scoped ones). */
  token?: string | undefined;
  /** Scoped tokens (SPEC §14). With neither `token` nor `tokens` there is no authentication. */
  tokens?: readonly RuntimeToken[] | undefined;
  /** When true, the `Host` header must be a loopback name or one of `allowedHosts` (DNS-rebinding defence). */
  loopbackOnly: boolean;
  /** Extra `Host` names accepted while `loopbackOnly` (e.g. a name the backend reaches this host by). */
  allowedHosts: readonly string[];
}

/** Who called, as far as the gate found out (for the request's log line). */
export interface GateCaller {
  /** The name of the valid token presented, set even when its scope then falls short. */
  token_name?: string;
}

/**
 * Admits or rejects one request by its headers; throws the HTTP error to answer. `scope` is what
 * the matched route needs (null: no token needed); a token's scopes are checked against it here.
 * The name of the token presented is written to `caller`.
 */
export type Gate = (scope: Scope | null, header: (name: string) => string | undefined, caller?: GateCaller) => void;

const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * The credential whose digest matches `presented`, comparing with every credential in constant
 * time and without stopping at a match, so timing tells neither which one matched nor where.
 */
function findCredential(credentials: readonly Credential[], presented: Buffer): Credential | undefined {
  let found: Credential | undefined;
  for (const credential of credentials) {
    const equal = timingSafeEqual(presented, credential.digest);
    found = equal && found === undefined ? credential : found;
  }
  return found;
}

function unauthorized(): HttpRuntimeError {
  return new HttpRuntimeError('unauthorized', 'a valid bearer token is required', { 'www-authenticate': 'Bearer' });
}

/** The hostname part of a `Host` header value, lowercased (`[::1]:80` → `[::1]`). */
export function hostnameOf(host: string): string {
  const value = host.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(0, end + 1);
  }
  const colon = value.indexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

/** True for `localhost`, `127.x.x.x` and `[::1]` (what a loopback-bound server may be called). */
export function isLoopbackHostname(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || IPV4_LOOPBACK.test(hostname);
}

/** True when a listen address only accepts connections from this machine. */
export function isLoopbackAddress(address: string): boolean {
  const value = address.trim().toLowerCase();
  return value === 'localhost' || value === '::1' || value === '[::1]' || IPV4_LOOPBACK.test(value);
}

/**
 * Builds the gate every request passes before any route logic: the bearer token first on routes
 * with a scope (SPEC §8: before anything else), then browser requests (`Origin`) are refused, then
 * the `Host` header is checked. Tokens are compared as SHA-256 digests with `timingSafeEqual`, so
 * timing reveals neither content nor length; then the token's strongest scope must include the
 * route's (`read` ⊂ `control` ⊂ `admin`), else `403 insufficient_scope` with `details.required`.
 */
export function createGate({ token, tokens, loopbackOnly, allowedHosts }: GateOptions): Gate {
  const credentials = toCredentials(token, tokens);
  const hostAllowed = createHostCheck(new Set(allowedHosts.map((host) => host.trim().toLowerCase())));
  return function gate(scope, header, caller = {}) {
    if (credentials.length > 0 && scope !== null) {
      const authorization = header('authorization') ?? '';
      const match = /^bearer +(\S+) *$/i.exec(authorization);
      if (!match) throw unauthorized();
      const credential = findCredential(credentials, tokenDigest(match[1] as string));
      if (credential === undefined) throw unauthorized();
      caller.token_name = credential.name;
      if (credential.rank < TOKEN_SCOPES.indexOf(scope)) {
        throw new HttpRuntimeError(
          'insufficient_scope',
          `this token lacks the "${scope}" scope this route needs`,
          {},
          { required: scope },
        );
      }
    }
    if (header('origin') !== undefined) {
      throw new HttpRuntimeError(
        'browser_access_denied',
        'browsers may not call a Runtime; call it from your backend',
        {},
      );
    }
    if (loopbackOnly && !hostAllowed(header('host') ?? '')) {
      throw new HttpRuntimeError('forbidden_host', 'this Host is not allowed for a loopback-bound Runtime', {});
    }
  };
}

/** Longest `Host` value whose answer is remembered, and how many are. */
const HOST_MEMO_LENGTH = 255;
const HOST_MEMO_SIZE = 64;

/**
 * Whether a loopback-bound Runtime accepts `host`. The answer depends on the value alone, and a
 * backend sends the same one on every request, so recent answers are remembered (bounded).
 */
function createHostCheck(allowed: ReadonlySet<string>): (host: string) => boolean {
  const memo = new Map<string, boolean>();
  return function hostAllowed(host) {
    let answer = memo.get(host);
    if (answer === undefined) {
      const hostname = hostnameOf(host);
      answer = isLoopbackHostname(hostname) || allowed.has(hostname) || allowed.has(host.trim().toLowerCase());
      if (host.length <= HOST_MEMO_LENGTH) {
        if (memo.size >= HOST_MEMO_SIZE) memo.clear();
        memo.set(host, answer);
      }
    }
    return answer;
  };
}
