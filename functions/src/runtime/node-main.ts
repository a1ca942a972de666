// `npm run start:edge`: the edge on Node, configured by the environment (functions/README.md).
import { startNodeEdge } from './node.js';

const edge = await startNodeEdge({ env: process.env, port: Number(process.env.PORT ?? 8787), hostname: process.env.HOST ?? '0.0.0.0' });
console.log(JSON.stringify({ event: 'listening', url: edge.url }));
const stop = () => void edge.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
