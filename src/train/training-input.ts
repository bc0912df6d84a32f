/**
 * Training photos as `TrainRequest.images` wants them: [N, 3, size, size], NCHW, values in
 * [-1, 1], from RGBA pixels already at the training size. No tfjs: the page fills it photo by
 * photo from its canvas, the benchmark from the shapes world's images, DreamBooth from its class images.
 */

/** Writes photo `n` (RGBA, size × size, row-major) into `out`. */
export function putTrainingImage(out: Float32Array, n: number, rgba: ArrayLike<number>, size: number): void {
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[(n * 3 + c) * plane + i] = (rgba[i * 4 + c] / 255) * 2 - 1;
  }
}

/** Square RGBA images of one size as the engine's training input. */
export function trainingInput(images: readonly { width: number; height: number; data: ArrayLike<number> }[]): Float32Array {
  const size = images[0].width;
  const out = new Float32Array(images.length * 3 * size * size);
  images.forEach((image, n) => {
    if (image.width !== size || image.height !== size) throw new RangeError(`training image ${n} is ${image.width}×${image.height}; all must be ${size}×${size}.`);
    putTrainingImage(out, n, image.data, size);
  });
  return out;
}
