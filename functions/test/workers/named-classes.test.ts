// Named classes inside workerd: the Workers entry's adapters with the named model in the registry.
import { registry } from '../../src/models/registry.js';
import { namedClassBehaviour } from '../named-classes.js';
import { withNamedModel } from '../support/named-model.js';
import { env, workersEdge } from './start-edge.js';

namedClassBehaviour('workerd', env, workersEdge({ registry: withNamedModel(registry) }));
