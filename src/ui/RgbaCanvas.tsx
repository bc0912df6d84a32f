import { useEffect, useRef } from 'react';
import type { RgbaImage } from '../engine/protocol';

/** Draws engine pixels; `scale` enlarges small previews without smoothing. */
export function RgbaCanvas({ image, label, scale = 1 }: { image: RgbaImage; label: string; scale?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (ctx) ctx.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  }, [image]);
  return (
    <canvas
      ref={ref}
      role="img"
      aria-label={label}
      width={image.width}
      height={image.height}
      style={{ width: image.width * scale, height: image.height * scale, imageRendering: scale > 1 ? 'pixelated' : 'auto' }}
    />
  );
}
