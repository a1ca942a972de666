// The ONNX Runtime session of one model: its one graph (noise, class, guidance, t_min, t_max →
// 8-bit pixels, NHWC; for a latent model the VAE decoder is inside it) run on a batch of requests,
// on the CUDA execution provider when the platform has it and on the CPU otherwise. The graph's
// weights may lie in an external-data file beside it: ONNX Runtime reads it from the graph's
// folder. It lives in the model's inference thread (thread.ts).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { SAMPLER_INPUTS, SAMPLER_OUTPUTS, type SamplerInputName } from '@imf/contract';
import { NoiseThreads } from '../noise/noise-threads.js';

/** The noise of every batch, made on every core (one pool per inference thread). */
const noiseThreads = new NoiseThreads();

export type ExecutionProvider = 'cuda' | 'cpu';

export type ExecutionProviderChoice = ExecutionProvider | 'auto';

/** One image to generate, in the model's terms. */
export interface SampleRequest {
  seed: number;
  classIndex: number;
  guidance: number;
  tmin: number;
  tmax: number;
}

export interface SamplerOptions {
  executionProvider: ExecutionProviderChoice;
  intraOpThreads: number;
  interOpThreads: number;
  /** Which GPU the CUDA provider runs on (CUDA_DEVICE_ID): one worker per GPU. */
  cudaDeviceId?: number;
}

/** Where onnxruntime-node keeps its native libraries; the CUDA provider is an optional file there. */
function bindingDir(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('onnxruntime-node');
  return join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** Whether this install of onnxruntime-node carries the CUDA provider (the GPU image installs it). */
export function cudaProviderInstalled(): boolean {
  return existsSync(join(bindingDir(), 'libonnxruntime_providers_cuda.so'));
}

function sessionOptions(options: SamplerOptions, provider: ExecutionProvider): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider === 'cuda' ? { name: 'cuda', deviceId: options.cudaDeviceId ?? 0 } : 'cpu'],
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: options.interOpThreads,
    graphOptimizationLevel: 'all',
    // Spinning threads steal the cores of a shared machine from the rest of the service.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

type Dims = readonly (number | 'batch')[];

/** Why a graph does not have the inputs and outputs wanted (name → type and shape after the batch), or undefined. */
function graphMismatch(session: ort.InferenceSession, inputs: Record<string, [string, Dims]>, outputs: Record<string, [string, Dims]>): string | undefined {
  const check = (kind: string, metadata: readonly ort.InferenceSession.ValueMetadata[], wanted: Record<string, [string, Dims]>) => {
    for (const [name, [type, expected]] of Object.entries(wanted)) {
      const value = metadata.find((m) => m.name === name);
      if (!value) return `the ONNX graph has no ${kind} "${name}" (it has ${metadata.map((m) => m.name).join(', ')})`;
      if (!value.isTensor || value.type !== type) return `the ONNX graph's ${kind} "${name}" is ${value.isTensor ? value.type : 'not a tensor'}, expected ${type}`;
      const [batch, ...rest] = value.shape;
      if (typeof batch === 'number') return `the ONNX graph's ${kind} "${name}" has a fixed batch size ${batch}; the batch dimension must be dynamic`;
      if (rest.join(',') !== expected.join(',')) return `the ONNX graph's ${kind} "${name}" has shape [${value.shape.join(', ')}], expected [batch${expected.map((d) => `, ${d}`).join('')}]`;
    }
    return undefined;
  };
  return check('input', session.inputMetadata, inputs) ?? check('output', session.outputMetadata, outputs);
}

/** What the session needs to know of its model (from its manifest). */
export interface SessionModel {
  /** The model's graph. */
  graphPath: string;
  /** [channels, height, width] of the noise (a latent model's latent shape). */
  noiseShape: [number, number, number];
  /** [height, width, channels] of the 8-bit image the graph gives. */
  pixelShape: [number, number, number];
}

/** Opens the graph: 'auto' tries CUDA when installed and falls back to the CPU; 'cuda' insists. */
async function openGraph(path: string, options: SamplerOptions, onFallback?: (reason: string) => void): Promise<{ session: ort.InferenceSession; provider: ExecutionProvider }> {
  const provider: ExecutionProvider = options.executionProvider === 'cuda' || (options.executionProvider === 'auto' && cudaProviderInstalled()) ? 'cuda' : 'cpu';
  try {
    return { session: await ort.InferenceSession.create(path, sessionOptions(options, provider)), provider };
  } catch (error) {
    if (provider !== 'cuda' || options.executionProvider === 'cuda') throw error;
    onFallback?.(`CUDA execution provider unavailable (${(error as Error).message.split('\n')[0]}); using the CPU`);
    return { session: await ort.InferenceSession.create(path, sessionOptions(options, 'cpu')), provider: 'cpu' };
  }
}

export class SamplerSession {
  private constructor(
    readonly executionProvider: ExecutionProvider,
    private readonly session: ort.InferenceSession,
    private readonly noiseShape: [number, number, number],
    /** Floats of noise per image: C × H × W. */
    readonly noiseSize: number,
  ) {}

  /**
   * Opens the model's graph. 'auto' tries CUDA when the provider is installed and falls back to
   * the CPU (reported through onFallback); 'cuda' insists. Throws when the graph is not what the
   * manifest describes.
   */
  static async open(model: SessionModel, options: SamplerOptions, onFallback?: (reason: string) => void): Promise<SamplerSession> {
    const { noiseShape, pixelShape } = model;
    const { session, provider } = await openGraph(model.graphPath, options, onFallback);
    const inputs = Object.fromEntries(Object.entries(SAMPLER_INPUTS).map(([name, type]) => [name, [type, name === 'noise' ? noiseShape : []] as [string, Dims]]));
    const mismatch = graphMismatch(session, inputs, { image: [SAMPLER_OUTPUTS.image, pixelShape] });
    if (mismatch) {
      await session.release();
      throw new Error(mismatch);
    }
    return new SamplerSession(provider, session, noiseShape, noiseShape[0] * noiseShape[1] * noiseShape[2]);
  }

  /** Runs the graph on one batch: B × H×W×C bytes, in request order. */
  async run(requests: readonly SampleRequest[]): Promise<Uint8Array> {
    const b = requests.length;
    // Each image's noise depends on its own seed only, so a batch gives what each request gives alone.
    const noise = await noiseThreads.fill(requests.map((r) => r.seed), this.noiseSize);
    const classes = new BigInt64Array(b);
    const guidance = new Float32Array(b);
    const tmin = new Float32Array(b);
    const tmax = new Float32Array(b);
    requests.forEach((r, i) => {
      classes[i] = BigInt(r.classIndex);
      guidance[i] = r.guidance;
      tmin[i] = r.tmin;
      tmax[i] = r.tmax;
    });
    // Keyed by the contract's input names: a renamed input fails to compile here.
    const feeds: Record<SamplerInputName, ort.Tensor> = {
      noise: new ort.Tensor(SAMPLER_INPUTS.noise, noise, [b, ...this.noiseShape]),
      class: new ort.Tensor(SAMPLER_INPUTS.class, classes, [b]),
      guidance: new ort.Tensor(SAMPLER_INPUTS.guidance, guidance, [b]),
      t_min: new ort.Tensor(SAMPLER_INPUTS.t_min, tmin, [b]),
      t_max: new ort.Tensor(SAMPLER_INPUTS.t_max, tmax, [b]),
    };
    const output = await this.session.run(feeds);
    return output.image!.data as Uint8Array;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
