/**
 * What a result hands over to the page instead of copying: the pixel buffers of its images
 * (a generation's `RgbaImage`s, an evaluation's `{ image }` entries) and a file's bytes. Each
 * buffer once: postMessage refuses a transfer list that names one twice.
 */
type Pixels = { data?: unknown };

function bufferOf(data: unknown): ArrayBuffer | null {
  return ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer ? data.buffer : null;
}

export function transferables(result: unknown): Transferable[] {
  if (typeof result !== 'object' || result === null) return [];
  const buffers: (ArrayBuffer | null)[] = [];
  if ('images' in result && Array.isArray(result.images)) {
    for (const entry of result.images as unknown[]) {
      if (typeof entry !== 'object' || entry === null) continue;
      const image = 'image' in entry && typeof entry.image === 'object' && entry.image !== null ? (entry.image as Pixels) : (entry as Pixels);
      buffers.push(bufferOf(image.data));
    }
  }
  if ('bytes' in result) buffers.push(bufferOf(result.bytes));
  return [...new Set(buffers.filter((b): b is ArrayBuffer => b !== null))];
}
