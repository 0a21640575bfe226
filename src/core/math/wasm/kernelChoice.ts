// Which kernels run the built-in model: the WebAssembly SIMD ones when they load ('auto', the
// default), or the TypeScript reference ('typescript'); 'wasm' insists and fails clearly.
import { ModelLoadError } from '../../errors';
import { loadBundledKernels, type KernelModule, type KernelModuleLoader } from './kernelModule';

export const KERNEL_CHOICES = ['auto', 'wasm', 'typescript'] as const;
export type KernelChoice = (typeof KERNEL_CHOICES)[number];

export function isKernelChoice(value: string): value is KernelChoice {
  return (KERNEL_CHOICES as readonly string[]).includes(value);
}

export interface KernelOptions {
  /** 'auto' (default): WebAssembly SIMD when it loads, else TypeScript. */
  kernels?: KernelChoice;
  /**
   * From this many tokens on, the WebAssembly pass computes half of each layer's attention heads
   * in a second thread (worker_threads). Default DEFAULT_THREAD_MIN_TOKENS; Infinity: one thread.
   */
  threadMinTokens?: number;
  /** How the compiled kernels are obtained (tests inject a failing one). Default: the bundled module. */
  loadKernels?: KernelModuleLoader;
}

/** Below this the second thread's start and hand-over cost more than half the attention saves. */
export const DEFAULT_THREAD_MIN_TOKENS = 1024;

export type ResolvedKernels = { kind: 'wasm'; module: KernelModule } | { kind: 'typescript'; unavailable?: string };

/** Loads the WebAssembly kernels if asked to (or allowed to); says why not when they cannot load. */
export function resolveKernels(options: KernelOptions = {}): ResolvedKernels {
  const choice = options.kernels ?? 'auto';
  if (!isKernelChoice(choice)) throw new ModelLoadError(`kernels must be one of ${KERNEL_CHOICES.join(', ')}, not ${JSON.stringify(choice)}.`);
  if (choice === 'typescript') return { kind: 'typescript' };
  try {
    return { kind: 'wasm', module: (options.loadKernels ?? loadBundledKernels)() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (choice === 'wasm') {
      throw new ModelLoadError(
        `The WebAssembly SIMD kernels were requested (kernels "wasm") but cannot load here: ${reason}. Use kernels "auto" or "typescript" to run the TypeScript kernels.`,
      );
    }
    return { kind: 'typescript', unavailable: reason };
  }
}

/** How a description names the kernels in use: "WebAssembly SIMD" or "TypeScript" (with why, when WebAssembly failed). */
export function describeKernels(resolved: ResolvedKernels): string {
  if (resolved.kind === 'wasm') return 'WebAssembly SIMD';
  return resolved.unavailable ? `TypeScript (WebAssembly SIMD unavailable: ${resolved.unavailable})` : 'TypeScript';
}
