/**
 * Test-only access to the Python reference's shapes-world fixtures: the 200 records of
 * captions.jsonl and the 32 sample PNGs, decoded (RGB or RGBA) into WorldImages.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decode } from 'fast-png';
import type { ColorName, Rgb } from './palette';
import type { WorldImage, WorldScene } from './render';
import type { ShapeName } from './shapes';

export const FIXTURE_DIR = resolve(__dirname, '../test/fixtures/shapes-world');

export interface RecordObject {
  shape: ShapeName;
  color: ColorName;
  size: 'small' | 'large';
  position: 'left' | 'right' | 'top' | 'bottom' | 'center';
  cx: number;
  cy: number;
  r: number;
  rgb: [number, number, number];
}

export interface CaptionRecord {
  id: number;
  caption: string;
  kind: 'one' | 'two';
  bg: ColorName;
  bg_rgb: [number, number, number];
  objects: RecordObject[];
  png?: string;
}

export function readRecords(): CaptionRecord[] {
  return readFileSync(resolve(FIXTURE_DIR, 'captions.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CaptionRecord);
}

export function readPng(relative: string): WorldImage {
  const png = decode(readFileSync(resolve(FIXTURE_DIR, relative)));
  if (png.depth !== 8 || (png.channels !== 3 && png.channels !== 4)) throw new Error(`${relative}: ${png.channels} channels of ${png.depth} bits`);
  const data = new Uint8ClampedArray(png.width * png.height * 4);
  for (let p = 0; p < png.width * png.height; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = png.data[p * png.channels + c];
    data[p * 4 + 3] = 255;
  }
  return { width: png.width, height: png.height, data };
}

/** The scene a record's (3-decimal) parameters describe. */
export function recordScene(record: CaptionRecord): WorldScene {
  return {
    background: record.bg_rgb as Rgb,
    objects: record.objects.map((o) => ({ shape: o.shape, cx: o.cx, cy: o.cy, r: o.r, color: o.rgb as Rgb })),
  };
}
