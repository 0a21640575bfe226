// esbuild's 'binary' loader (esbuild.js) turns an imported .wasm file into its bytes.
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
