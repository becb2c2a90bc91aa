import type { RouteDef } from './route.js';

/** A route matched against a path, with its percent-decoded path parameters. */
export interface RouteMatch {
  route: RouteDef;
  params: Record<string, string>;
}

/** What the matcher found: a route, a known path with other methods (`allow`), or nothing. */
export type MatchResult = RouteMatch | { allow: string } | null;

/** Matches a method and path against the route table; the one matcher behind both transports. */
export type RouteMatcher = (method: string, path: string) => MatchResult;

interface CompiledRoute {
  route: RouteDef;
  segments: readonly string[];
}

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function matchSegments(compiled: CompiledRoute, parts: readonly string[]): Record<string, string> | null {
  if (compiled.segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const expected = compiled.segments[i] as string;
    const actual = parts[i] as string;
    if (expected.startsWith(':')) {
      const value = actual === '' ? null : decode(actual);
      if (value === null) return null;
      params[expected.slice(1)] = value;
    } else if (expected !== actual) {
      return null;
    }
  }
  return params;
}

/**
 * Compiles the route table into its matcher. `HEAD` matches the `GET` route (the transports send
 * no body for it); a path that matches only under other methods yields their `Allow` list.
 */
export function createMatcher(routes: readonly RouteDef[]): RouteMatcher {
  const compiled: CompiledRoute[] = routes.map((route) => ({ route, segments: route.path.split('/') }));
  return function match(method, path) {
    const wanted = method === 'HEAD' ? 'GET' : method;
    const parts = path.split('/');
    const methods: string[] = [];
    for (const entry of compiled) {
      const params = matchSegments(entry, parts);
      if (!params) continue;
      if (entry.route.method === wanted) return { route: entry.route, params };
      methods.push(entry.route.method);
    }
    if (methods.length === 0) return null;
    return { allow: [...new Set(methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])))].join(', ') };
  };
}
