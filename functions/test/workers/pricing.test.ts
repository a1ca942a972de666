// Prices and usage inside workerd: the Workers entry's adapters (the Durable Object keeps the
// buckets and the usage books) with the large model in the registry.
import { registry } from '../../src/models/registry.js';
import { pricingBehaviour } from '../pricing.js';
import { withLargeModel } from '../support/large-model.js';
import { env, workersEdge } from './start-edge.js';

pricingBehaviour('workerd', env, workersEdge({ registry: withLargeModel(registry) }));
