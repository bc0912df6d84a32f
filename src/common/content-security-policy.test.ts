import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from './content-security-policy';

const directives = new Map(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));

describe('CONTENT_SECURITY_POLICY', () => {
  it('lets scripts and workers come from the studio alone, and compile WebAssembly but not eval JavaScript', () => {
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives.get('worker-src')).toEqual(["'self'"]);
    expect(CONTENT_SECURITY_POLICY).not.toContain("'unsafe-eval'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("'unsafe-inline'");
  });

  it('names no CDN anywhere (onnxruntime-web is served by the studio)', () => {
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/jsdelivr|unpkg|cdnjs/);
    expect(directives.get('default-src')).toEqual(["'self'"]);
  });
});
