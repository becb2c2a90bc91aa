import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpRuntimeError } from './http-errors.js';
import type { Scope } from './route.js';

/** What the gate needs to know to admit a request (SPEC §8). */
export interface GateOptions {
  /** Bearer token required on every `/v1` route; none means no authentication. */
  token?: string | undefined;
  /** When true, the `Host` header must be a loopback name or one of `allowedHosts` (DNS-rebinding defence). */
  loopbackOnly: boolean;
  /** Extra `Host` names accepted while `loopbackOnly` (e.g. a name the backend reaches this host by). */
  allowedHosts: readonly string[];
}

/**
 * Admits or rejects one request by its headers; throws the HTTP error to answer. `scope` is what
 * the matched route needs (null: no token needed); a token's scopes are checked against it here.
 */
export type Gate = (scope: Scope | null, header: (name: string) => string | undefined) => void;

const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
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
 * the `Host` header is checked. The token is compared as SHA-256 digests with `timingSafeEqual`,
 * so timing reveals neither content nor length. The one configured token grants every scope;
 * scoped tokens (SPEC §14) compare the token's scopes with `scope` right after the digest check.
 */
export function createGate({ token, loopbackOnly, allowedHosts }: GateOptions): Gate {
  const expected = token === undefined ? null : digest(token);
  const allowed = new Set(allowedHosts.map((host) => host.trim().toLowerCase()));
  return function gate(scope, header) {
    if (expected !== null && scope !== null) {
      const authorization = header('authorization') ?? '';
      const match = /^bearer +(\S+) *$/i.exec(authorization);
      if (!match || !timingSafeEqual(digest(match[1] as string), expected)) {
        throw new HttpRuntimeError('unauthorized', 'a valid bearer token is required', {
          'www-authenticate': 'Bearer',
        });
      }
    }
    if (header('origin') !== undefined) {
      throw new HttpRuntimeError(
        'browser_access_denied',
        'browsers may not call a Runtime; call it from your backend',
        {},
      );
    }
    if (loopbackOnly) {
      const host = header('host') ?? '';
      const hostname = hostnameOf(host);
      if (!isLoopbackHostname(hostname) && !allowed.has(hostname) && !allowed.has(host.trim().toLowerCase())) {
        throw new HttpRuntimeError('forbidden_host', 'this Host is not allowed for a loopback-bound Runtime', {});
      }
    }
  };
}
