import { useEffect, useRef, useState } from 'react';
import { formatBytes } from './format';
import { refreshMemory, releaseGpu, startEngine, useStudio } from './store';

/** How often the panel reads the engine's memory while it is shown (one small message). */
const MEMORY_EVERY_MS = 2000;

/** Keeps "Memory held" current while the GPU is ready, idle (a job refreshes it when it ends) and the page is visible. */
function useMemoryWhileVisible(ready: boolean): void {
  useEffect(() => {
    if (!ready) return;
    void refreshMemory();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void refreshMemory();
    }, MEMORY_EVERY_MS);
    return () => clearInterval(timer);
  }, [ready]);
}

/** What releasing the GPU stops, in words. */
function releaseConsequence(model: string | null, training: boolean): string {
  const parts = [model ? `unloads ${model}` : null, training ? 'stops the training run at its last checkpoint' : null].filter(Boolean);
  return `Releasing the GPU ${parts.length ? `${parts.join(' and ')}; ` : ''}nothing runs until you reconnect${model ? ', which loads it again' : ''}.`;
}

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
  const modelTitle = useStudio((s) => s.model?.card.title ?? null);
  const modelBytes = useStudio((s) => s.model?.bytes ?? null);
  const training = useStudio((s) => s.training.state === 'running');
  const [confirming, setConfirming] = useState(false);
  const releaseButton = useRef<HTMLButtonElement>(null);
  const reconnectButton = useRef<HTMLButtonElement>(null);
  const released = useRef(false);
  const idle = useStudio((s) => s.queue.length === 0 && s.training.state !== 'running' && s.modelLoad.state !== 'loading');
  useMemoryWhileVisible(engine.state === 'ready' && idle);
  // weights reach the GPU on first use; once used, in-use is about their size (never exactly)
  const weightsPending = memory !== null && modelBytes !== null && memory.bytesInUse < modelBytes / 2;
  useEffect(() => {
    setConfirming(false);
    // after "Release the GPU", focus goes to Reconnect rather than to the page's body
    if (engine.state === 'lost' && released.current) reconnectButton.current?.focus();
    released.current = false;
  }, [engine.state]);
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
            {modelBytes !== null && (
              <div>
                <dt>Model weights</dt>
                <dd>{formatBytes(modelBytes)}</dd>
              </div>
            )}
            {memory && (
              <div>
                <dt>Memory in use</dt>
                <dd data-testid="gpu-memory-in-use">{formatBytes(memory.bytesInUse)}</dd>
              </div>
            )}
            {memory && (
              <div>
                <dt>Memory held</dt>
                <dd data-testid="gpu-memory">{formatBytes(memory.bytesAllocated)}</dd>
              </div>
            )}
          </dl>
          {weightsPending && <p className="muted gpu-note">The weights move to the GPU when first used (the first generation or training step).</p>}
          {confirming ? (
            <div role="group" aria-labelledby="release-question" className="confirm">
              <p id="release-question">{releaseConsequence(modelTitle, training)}</p>
              <div className="row">
                <button
                  type="button"
                  className="danger"
                  autoFocus
                  onClick={() => {
                    released.current = true;
                    void releaseGpu();
                  }}
                >
                  Release the GPU
                </button>
                <button
                  type="button"
                  onClick={() => {
                    setConfirming(false);
                    requestAnimationFrame(() => releaseButton.current?.focus());
                  }}
                >
                  Keep it
                </button>
              </div>
            </div>
          ) : (
            <button type="button" ref={releaseButton} onClick={() => setConfirming(true)}>
              Release GPU
            </button>
          )}
        </>
      )}
      {engine.state === 'lost' && (
        <div role="alert" className="gpu-lost">
          <p>
            {engine.event.reason === 'destroyed'
              ? 'The GPU was released; nothing runs until you reconnect.'
              : `The GPU device was lost (${engine.event.message}). This happens after a driver reset or when the GPU runs out of memory.`}
          </p>
          <button type="button" ref={reconnectButton} onClick={() => void startEngine()}>
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
