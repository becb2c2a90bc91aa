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

/** One `/`-separated part of a route template: a literal, or a parameter (`:name`). */
interface Segment {
  literal: string;
  /** The parameter's name; null for a literal. */
  param: string | null;
}

interface CompiledRoute {
  route: RouteDef;
  segments: readonly Segment[];
}

const SLASH = 0x2f;

function compile(route: RouteDef): CompiledRoute {
  // Templates start with `/`: the empty part before it is not a segment.
  const segments = route.path
    .split('/')
    .slice(1)
    .map((part) => ({ literal: part, param: part.startsWith(':') ? part.slice(1) : null }));
  return { route, segments };
}

/** Where the segment starting at `from` ends: the next `/`, or the end of the path. */
function segmentEnd(path: string, from: number): number {
  const end = path.indexOf('/', from);
  return end === -1 ? path.length : end;
}

// Char by char: V8's `startsWith` with a position costs several times more on these short strings.
function literalAt(path: string, at: number, literal: string): boolean {
  for (let i = 0; i < literal.length; i++) {
    if (path.charCodeAt(at + i) !== literal.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Whether `path` has the template's shape: its literals in place and a non-empty segment for
 * each parameter. The path is walked in place, not split: this runs for every request.
 */
function fits(segments: readonly Segment[], path: string): boolean {
  let at = 0;
  for (const { literal, param } of segments) {
    if (path.charCodeAt(at) !== SLASH) return false;
    at += 1;
    const end = segmentEnd(path, at);
    if (param === null ? end - at !== literal.length || !literalAt(path, at, literal) : end === at) return false;
    at = end;
  }
  return at === path.length;
}

/** The number of `/` in `path`: its segment count when it starts with one. */
function slashes(path: string): number {
  let count = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === SLASH) count += 1;
  return count;
}

function decode(segment: string): string | null {
  // Most ids carry no escape: skip the decoder (and its try/catch) for them.
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** The percent-decoded parameters of a path that {@link fits} the template; null when one does not decode. */
function paramsOf(segments: readonly Segment[], path: string): Record<string, string> | null {
  const params: Record<string, string> = {};
  let at = 0;
  for (const { param } of segments) {
    const end = segmentEnd(path, at + 1);
    if (param !== null) {
      const value = decode(path.slice(at + 1, end));
      if (value === null) return null;
      params[param] = value;
    }
    at = end;
  }
  return params;
}

/**
 * Compiles the route table into its matcher. `HEAD` matches the `GET` route (the transports send
 * no body for it); a path that matches only under other methods yields their `Allow` list.
 */
export function createMatcher(routes: readonly RouteDef[]): RouteMatcher {
  // Only templates with as many segments as the path can match it: they are tried, in table order.
  const bySegments: CompiledRoute[][] = [];
  for (const route of routes) {
    const compiled = compile(route);
    const group = bySegments[compiled.segments.length];
    if (group) group.push(compiled);
    else bySegments[compiled.segments.length] = [compiled];
  }
  return function match(method, path) {
    const wanted = method === 'HEAD' ? 'GET' : method;
    const methods: string[] = [];
    for (const { route, segments } of bySegments[slashes(path)] ?? []) {
      if (!fits(segments, path)) continue;
      const params = paramsOf(segments, path);
      if (params === null) continue;
      if (route.method === wanted) return { route, params };
      methods.push(route.method);
    }
    if (methods.length === 0) return null;
    return { allow: [...new Set(methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])))].join(', ') };
  };
}
