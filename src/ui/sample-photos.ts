/** A sample concept's photos as PNG files, as if the person had dropped them (the shapes world draws them). */
import { encode } from 'fast-png';
import { conceptPhotos, type SampleConcept } from '../world/sample-concepts';

export function samplePhotoFiles(concept: SampleConcept, count = 5): File[] {
  return conceptPhotos(concept, count).map((image, i) => {
    const png = encode({ width: image.width, height: image.height, data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength), channels: 4 });
    return new File([png as Uint8Array<ArrayBuffer>], `${concept.id}-${i + 1}.png`, { type: 'image/png' });
  });
}
