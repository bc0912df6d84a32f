import { pngWithSettings } from '../../library/settings-infotext';
import { saveFile } from '../downloads';
import type { GeneratedImage } from '../generated-images';
import { RgbaCanvas } from '../RgbaCanvas';
import { useStudio } from '../store';

/** Saves `studio-<seed>.png`, carrying its settings in A1111's `parameters` chunk. */
function SavePng({ image }: { image: GeneratedImage }) {
  const name = `studio-${image.settings.seed}.png`;
  return (
    <button type="button" onClick={() => saveFile(name, pngWithSettings(image.image, image.settings), 'image/png')}>
      Save PNG
    </button>
  );
}

/** The last finished generation: its images, each seed shown and savable; or why it failed. */
export function GenerationResult() {
  const generation = useStudio((s) => s.generation);
  if (generation.state === 'failed') {
    return (
      <div role="alert" className="card error">
        <p>{generation.error.message}</p>
        {generation.error.hint && <p className="muted">{generation.error.hint}</p>}
      </div>
    );
  }
  if (generation.state !== 'done') return null;
  const { result, images } = generation;
  return (
    <div className="card" data-testid="result">
      <p role="status" className="muted">
        Done: {images.length === 1 ? '1 image' : `${images.length} images`} of “{generation.options.prompt}”.
      </p>
      {result.droppedTokenCount > 0 && (
        <p className="warning">The prompt was longer than the model reads (77 tokens): “{result.droppedText}” was left out.</p>
      )}
      <div className="images">
        {images.map((image, i) => (
          <figure key={i}>
            <RgbaCanvas image={image.image} label={`Generated image ${i + 1}`} scale={Math.max(1, Math.floor(256 / image.image.width))} />
            <figcaption>
              seed {image.settings.seed} <SavePng image={image} />
            </figcaption>
          </figure>
        ))}
      </div>
    </div>
  );
}
