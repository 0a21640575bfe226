// The one place that loads @huggingface/tokenizers. The package is ESM-only as far as TypeScript is
// concerned, while this project compiles to CommonJS; its `require` build (exports.node.require) is
// what esbuild bundles, so the value comes from require() and only the types from the ESM typings.
import type * as HfTokenizers from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const library = require('@huggingface/tokenizers') as typeof HfTokenizers;

export const HfTokenizer = library.Tokenizer;
export type HfTokenizer = HfTokenizers.Tokenizer;
export type HfAddedToken = HfTokenizers.AddedToken;
