// SeaweedFS's own admin calls, as the stack's operator (not the public) makes them: the fault tests
// use them to break storage in ways an outage or an operator's mistake would.
import type { TestStack } from './stack.js';

/** Deletes a collection (every volume of it) through the master's admin API. */
export async function deleteCollection(stack: TestStack, collection: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${stack.storage.ports!.master}/col/delete?collection=${encodeURIComponent(collection)}`);
  await response.arrayBuffer();
  if (response.status >= 300) throw new Error(`col/delete answered ${response.status}`);
}
