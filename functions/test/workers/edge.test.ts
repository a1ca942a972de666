// The behaviour suite inside workerd: the Workers entry's adapters (Cache API, R2 binding, KV,
// Durable Object rate limiter) from the real bindings of wrangler.toml, upstreams over HTTP.
import { edgeBehaviour } from '../behaviour.js';
import { env, workersEdge } from './start-edge.js';

edgeBehaviour('workerd', env, workersEdge());
