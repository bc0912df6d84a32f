import { formatBytes } from './format';
import { releaseGpu, startEngine, useStudio } from './store';

const LIMIT_LABELS: Record<string, string> = {
  maxBufferSize: 'Largest buffer',
  maxStorageBufferBindingSize: 'Largest storage binding',
  maxComputeWorkgroupStorageSize: 'Workgroup memory',
  maxComputeInvocationsPerWorkgroup: 'Invocations per workgroup',
};
const BYTE_LIMITS = new Set(['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize']);

export function GpuPanel() {
  const engine = useStudio((s) => s.engine);
  const memory = useStudio((s) => s.memory);
  return (
    <aside className="gpu-panel" aria-label="GPU status" data-testid="gpu-panel" data-state={engine.state}>
      <h2>GPU</h2>
      {engine.state === 'starting' && <p>Connecting to the GPU…</p>}
      {engine.state === 'ready' && (
        <>
          <p className="gpu-adapter" data-testid="gpu-adapter">
            {[engine.capabilities.adapter.vendor, engine.capabilities.adapter.architecture].filter(Boolean).join(' · ') || 'Unknown vendor'}
            {engine.capabilities.adapter.description && <span className="muted"> — {engine.capabilities.adapter.description}</span>}
          </p>
          <dl>
            {Object.entries(LIMIT_LABELS).map(([key, label]) => {
              const value = engine.capabilities.limits[key as keyof typeof engine.capabilities.limits];
              return (
                <div key={key}>
                  <dt>{label}</dt>
                  <dd>{BYTE_LIMITS.has(key) ? formatBytes(value) : value}</dd>
                </div>
              );
            })}
            <div>
              <dt>Features</dt>
              <dd data-testid="gpu-features">{engine.capabilities.features.join(', ') || 'none'}</dd>
            </div>
            {memory && (
              <div>
                <dt>Memory held</dt>
                <dd>{formatBytes(memory.bytesAllocated)}</dd>
              </div>
            )}
          </dl>
          <button type="button" onClick={() => void releaseGpu()}>
            Release GPU
          </button>
        </>
      )}
      {engine.state === 'lost' && (
        <div role="alert" className="gpu-lost">
          <p>
            {engine.event.reason === 'destroyed'
              ? 'The GPU was released; nothing runs until you reconnect.'
              : `The GPU device was lost (${engine.event.message}). This happens after a driver reset or when the GPU runs out of memory.`}
          </p>
          <button type="button" onClick={() => void startEngine()}>
            Reconnect GPU
          </button>
        </div>
      )}
      {engine.state === 'failed' && (
        <div role="alert" className="gpu-lost">
          <p>{engine.error.message}</p>
          {engine.error.hint && <p className="muted">{engine.error.hint}</p>}
          <button type="button" onClick={() => void startEngine()}>
            Try again
          </button>
        </div>
      )}
    </aside>
  );
}
