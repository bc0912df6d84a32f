import type { Progress } from '../engine/protocol';

export function ProgressBar({ progress, label }: { progress: Progress | null; label: string }) {
  const fraction = progress?.fraction;
  return (
    <div className="progress" data-testid="progress">
      <progress aria-label={label} max={1} value={fraction ?? undefined} />
      <span className="muted">{progress?.label ?? 'Starting…'}</span>
    </div>
  );
}
