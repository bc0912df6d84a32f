import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { Engine } from './engine';
import { StudioError } from '../common/errors';
import { REQUESTED_LIMITS } from '../gpu/device';
import type { EngineEvent } from './protocol';

const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;

describe('Engine', () => {
  it('requests the adapter maxima and optional features and reports them', async () => {
    const engine = new Engine(gpu, () => {});
    const caps = await engine.init();
    const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' }))!;
    for (const name of REQUESTED_LIMITS) expect(caps.limits[name], name).toBe(adapter.limits[name]);
    expect(caps.limits.maxBufferSize).toBeGreaterThan(256 * 1024 * 1024);
    for (const f of caps.features) expect(adapter.features.has(f)).toBe(true);
    expect(caps.adapter.vendor + caps.adapter.description).not.toBe('');
    expect(Object.isFrozen(caps.limits)).toBe(true);
    expect(tf.getBackend()).toBe('webgpu');
    expect(tf.env().getBool('WEBGPU_CPU_FORWARD')).toBe(false);
    const sum = tf.add(tf.scalar(2), tf.scalar(3));
    expect(await sum.data()).toEqual(new Float32Array([5]));
    sum.dispose();
    expect(engine.memory().tensors).toBe(tf.memory().numTensors);
  });

  it('explains a browser without WebGPU', async () => {
    const error = await new Engine(undefined, () => {}).init().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).name).toBe('WebGpuUnavailable');
    expect((error as StudioError).hint).toMatch(/Chrome/);
  });

  it('explains a browser that has WebGPU but no adapter, and can retry', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    const engine = new Engine(noAdapter, () => {});
    await expect(engine.init()).rejects.toMatchObject({ name: 'AdapterUnavailable' });
    await expect(engine.init()).rejects.toMatchObject({ name: 'AdapterUnavailable' });
  });

  it('reports a released device as a device-lost event and reconnects', async () => {
    const events: EngineEvent[] = [];
    const engine = new Engine(gpu, (e) => events.push(e));
    await engine.init();
    await engine.releaseDevice();
    expect(events).toEqual([expect.objectContaining({ type: 'device-lost', reason: 'destroyed' })]);
    expect(() => engine.memory()).toThrow(/not connected/);
    await engine.init();
    const sum = tf.tidy(() => tf.sum(tf.ones([4])));
    expect(await sum.data()).toEqual(new Float32Array([4]));
    sum.dispose();
  });
});
