/**
 * DreamBench's scores from embeddings: CLIP-I and DINO, the mean cosine between each generated
 * image and each training photo (identity); CLIP-T, the mean cosine between each image and its
 * prompt written with the class word (editability).
 */
import type { EvaluationScores } from './types';
import { cosineMatrix, mean, meanCosine } from './similarity';

/** A generated image's embeddings, and its prompt's (the class word in place of the token). */
export interface EmbeddedImage {
  clip: Float32Array;
  dino: Float32Array;
  prompt: Float32Array;
}

export interface EmbeddedPhotos {
  clip: Float32Array[];
  dino: Float32Array[];
}

export function evaluationScores(images: readonly EmbeddedImage[], photos: EmbeddedPhotos): EvaluationScores {
  if (images.length === 0 || photos.clip.length === 0) throw new RangeError('scores need images and photos');
  const clipT = mean(images.map((im) => cosineMatrix([im.clip], [im.prompt])[0][0]));
  return {
    clipI: meanCosine(images.map((im) => im.clip), photos.clip),
    clipT,
    dino: meanCosine(images.map((im) => im.dino), photos.dino),
  };
}
