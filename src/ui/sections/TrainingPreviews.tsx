import { RgbaCanvas } from '../RgbaCanvas';
import { useStudio } from '../store';

/** The run's preview images, oldest first (nothing before the first), each with its step, and the prompt they drew. */
export function TrainingPreviews() {
  const samples = useStudio((s) => s.samples);
  if (samples.length === 0) return null;
  const onePrompt = samples.every((s) => s.prompt === samples[0].prompt);
  return (
    <div data-testid="training-previews">
      {onePrompt && <p className="muted">Previews of “{samples[0].prompt}”</p>}
      <div className="images">
        {samples.map((sample) => (
          <figure key={sample.step}>
            <RgbaCanvas image={sample.image} label={`Preview at step ${sample.step}`} scale={Math.max(1, Math.floor(128 / sample.image.width))} />
            <figcaption>
              step {sample.step}
              {!onePrompt && `: ${sample.prompt}`}
            </figcaption>
          </figure>
        ))}
      </div>
    </div>
  );
}
