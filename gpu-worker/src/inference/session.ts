// The ONNX Runtime session of one model: the one-step sampler graph (noise, class, guidance, t_min,
// t_max → image) run on a batch of requests, on the CUDA execution provider when the platform has
// it and on the CPU otherwise. It lives in the model's inference thread (thread.ts).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { SAMPLER_INPUTS, SAMPLER_OUTPUTS, type SamplerInputName, type SamplerOutputName } from '@imf/contract';
import { fillNormals } from '../noise/index.js';

export type ExecutionProvider = 'cuda' | 'cpu';

const IMAGE_OUTPUT: SamplerOutputName = 'image';
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
    executionProviders: [provider],
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: options.interOpThreads,
    graphOptimizationLevel: 'all',
    // Spinning threads steal the cores of a shared machine from the rest of the service.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/** Why the graph does not match the sampler contract, or undefined when it does. */
function graphMismatch(session: ort.InferenceSession, chw: readonly number[]): string | undefined {
  const check = (kind: string, metadata: readonly ort.InferenceSession.ValueMetadata[], wanted: Record<string, string>) => {
    for (const [name, type] of Object.entries(wanted)) {
      const value = metadata.find((m) => m.name === name);
      if (!value) return `the ONNX graph has no ${kind} "${name}" (it has ${metadata.map((m) => m.name).join(', ')})`;
      if (!value.isTensor || value.type !== type) return `the ONNX graph's ${kind} "${name}" is ${value.isTensor ? value.type : 'not a tensor'}, expected ${type}`;
      const [batch, ...rest] = value.shape;
      if (typeof batch === 'number') return `the ONNX graph's ${kind} "${name}" has a fixed batch size ${batch}; the batch dimension must be dynamic`;
      const expected = name === 'noise' || name === 'image' ? chw : [];
      if (rest.join(',') !== expected.join(',')) return `the ONNX graph's ${kind} "${name}" has shape [${value.shape.join(', ')}], expected [batch${expected.map((d) => `, ${d}`).join('')}]`;
    }
    return undefined;
  };
  return check('input', session.inputMetadata, SAMPLER_INPUTS) ?? check('output', session.outputMetadata, SAMPLER_OUTPUTS);
}

/** What the session needs to know of its model. */
export interface SessionModel {
  onnxPath: string;
  /** [channels, height, width] of one image. */
  chw: [number, number, number];
}

export class SamplerSession {
  private constructor(
    readonly executionProvider: ExecutionProvider,
    private readonly session: ort.InferenceSession,
    private readonly chw: [number, number, number],
    /** Floats per image: C × H × W. */
    readonly imageSize: number,
  ) {}

  /**
   * Opens the model's session. 'auto' tries CUDA when the provider is installed and falls back to the
   * CPU (reported through onFallback); 'cuda' insists. Throws when the graph is not the sampler the
   * manifest describes.
   */
  static async open(model: SessionModel, options: SamplerOptions, onFallback?: (reason: string) => void): Promise<SamplerSession> {
    const { chw } = model;
    let provider: ExecutionProvider = options.executionProvider === 'cuda' || (options.executionProvider === 'auto' && cudaProviderInstalled()) ? 'cuda' : 'cpu';
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model.onnxPath, sessionOptions(options, provider));
    } catch (error) {
      if (provider !== 'cuda' || options.executionProvider === 'cuda') throw error;
      onFallback?.(`CUDA execution provider unavailable (${(error as Error).message.split('\n')[0]}); using the CPU`);
      provider = 'cpu';
      session = await ort.InferenceSession.create(model.onnxPath, sessionOptions(options, provider));
    }
    const mismatch = graphMismatch(session, chw);
    if (mismatch) {
      await session.release();
      throw new Error(mismatch);
    }
    return new SamplerSession(provider, session, chw, chw[0] * chw[1] * chw[2]);
  }

  /** Generates one image per request in one forward pass: B × C×H×W floats in [-1, 1], request order. */
  async run(requests: readonly SampleRequest[]): Promise<Float32Array> {
    const b = requests.length;
    const noise = new Float32Array(b * this.imageSize);
    const classes = new BigInt64Array(b);
    const guidance = new Float32Array(b);
    const tmin = new Float32Array(b);
    const tmax = new Float32Array(b);
    requests.forEach((r, i) => {
      // Each image's noise depends on its own seed only, so a batch gives what each request gives alone.
      fillNormals(r.seed, noise, i * this.imageSize, this.imageSize);
      classes[i] = BigInt(r.classIndex);
      guidance[i] = r.guidance;
      tmin[i] = r.tmin;
      tmax[i] = r.tmax;
    });
    const [channels, height, width] = this.chw;
    // Keyed by the contract's input names: a renamed input fails to compile here.
    const feeds: Record<SamplerInputName, ort.Tensor> = {
      noise: new ort.Tensor(SAMPLER_INPUTS.noise, noise, [b, channels, height, width]),
      class: new ort.Tensor(SAMPLER_INPUTS.class, classes, [b]),
      guidance: new ort.Tensor(SAMPLER_INPUTS.guidance, guidance, [b]),
      t_min: new ort.Tensor(SAMPLER_INPUTS.t_min, tmin, [b]),
      t_max: new ort.Tensor(SAMPLER_INPUTS.t_max, tmax, [b]),
    };
    const output = await this.session.run(feeds);
    return output[IMAGE_OUTPUT]!.data as Float32Array;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
