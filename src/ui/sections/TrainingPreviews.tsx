import { RgbaCanvas } from '../RgbaCanvas';
import { useStudio } from '../store';

/** The run's preview images, oldest first (nothing before the first). */
export function TrainingPreviews() {
  const samples = useStudio((s) => s.samples);
  if (samples.length === 0) return null;
  return (
    <div className="images" data-testid="training-previews">
      {samples.map((sample) => (
        <figure key={sample.step}>
          <RgbaCanvas image={sample.image} label={`Preview at step ${sample.step}`} scale={Math.max(1, Math.floor(128 / sample.image.width))} />
          <figcaption>step {sample.step}</figcaption>
        </figure>
      ))}
    </div>
  );
}
