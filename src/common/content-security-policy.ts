/**
 * The built studio's Content-Security-Policy: a <meta> that vite.config.ts adds to the build (not
 * to dev: hot reload runs inline scripts), and the header `vite preview` sends, which is what holds
 * the engine worker (a worker keeps the policy its own script is served with; a host of the build
 * should send this header too). Scripts and workers come from the studio's
 * own origin only (onnxruntime-web's wasm too, which may compile); the page connects to itself, the Hugging Face hub (and its download hosts),
 * and hubs on this machine. A meta policy cannot change at run time, so a hub endpoint typed in
 * Models elsewhere is refused by the browser: serve the studio with a policy that names it.
 */
export const HUB_CONNECT_SOURCES = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co', 'http://127.0.0.1:*', 'http://localhost:*'] as const;

const DIRECTIVES: Record<string, readonly string[]> = {
  'default-src': ["'self'"],
  // onnxruntime-web (the feature models) compiles its WebAssembly: wasm only, never eval
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'worker-src': ["'self'"],
  'connect-src': ["'self'", ...HUB_CONNECT_SOURCES],
  'img-src': ["'self'", 'blob:', 'data:'],
  'style-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
};

export const CONTENT_SECURITY_POLICY = Object.entries(DIRECTIVES)
  .map(([name, sources]) => `${name} ${sources.join(' ')}`)
  .join('; ');
