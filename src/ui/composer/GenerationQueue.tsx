import { ProgressBar } from '../Progress';
import { RgbaCanvas } from '../RgbaCanvas';
import { cancelGeneration, useStudio } from '../store';

/** Generations queued and running, each with its seed, progress, preview and a Cancel. */
export function GenerationQueue() {
  const queue = useStudio((s) => s.queue);
  if (queue.length === 0) return null;
  return (
    <section className="card" aria-label="Generation queue" data-testid="generation-queue">
      <h2>Queue</h2>
      <ol className="queue">
        {queue.map((job, i) => (
          <li key={job.id} data-testid="queued-generation">
            <p>
              “{job.prompt}” · seed {job.seed}
              {job.images > 1 && `–${job.seed + job.images - 1}`} · {job.progress ? 'running' : i === 0 ? 'starting' : 'waiting'}
            </p>
            {job.progress && <ProgressBar progress={job.progress} label="Generating" />}
            {job.preview && <RgbaCanvas image={job.preview} label={`Preview of “${job.prompt}”`} scale={Math.max(1, Math.floor(128 / job.preview.width))} />}
            <button type="button" aria-label={`Cancel generation ${i + 1}: “${job.prompt}”`} onClick={() => cancelGeneration(job.id)}>
              Cancel
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}
