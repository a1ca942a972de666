// The methods the router answers for a path: a known path asked with another method is a 405 with
// `Allow`, not a 404, so a client sees it has the right URL and the wrong verb.

/** The methods some route answers for this path (HEAD wherever GET), sorted; none for an unknown path. */
export function allowedMethods(routes: readonly { method: string; path: string }[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === 'ALL' || route.path.includes('*')) continue; // middleware, not endpoints
    const pattern = new RegExp(`^${route.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\\?:\w+/g, '[^/]+')}$`);
    if (pattern.test(path)) methods.add(route.method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
