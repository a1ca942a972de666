// Imported first by the worker's entry point: sizes libuv's thread pool to the machine before
// anything starts it. sharp runs each encode as one task of that pool (libvips gives each image one
// thread on glibc), so the pool's size is how many images encode at once: the default 4 would leave
// the cores of a GPU host idle while images queue. UV_THREADPOOL_SIZE set by the caller wins.
import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));
