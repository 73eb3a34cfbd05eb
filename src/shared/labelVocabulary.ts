// The words of labeling that the engine, the extension host and the webview all speak: the raster codes
// (0 background, 1..253 a class, 254 unlabeled, 255 unsure), the shapes a person draws (the labeling
// contract, src/engine/label/shapes.ts), an image's status, the folder's mode, a class definition, the
// backbones and export formats. The engine protocol (engineLabelProtocol.ts) and the webview protocol
// (webviewLabelProtocol.ts) both take them from here, so the host passes values between the two
// without casts. No DOM, no node.

/** Raster value of a pixel no shape marks (a mask shape's "leave this pixel"). */
export const UNLABELED = 254;
/** Raster value for "unsure": ignored in training and scoring, exported as 255. */
export const UNSURE = 255;
/** Largest class id (254 and 255 are taken). */
export const MAX_CLASS = 253;

/**
 * What a person draws on an image. Coordinates are the image's pixels as the user sees it (EXIF
 * orientation applied), full resolution, floats allowed; labels 0 background, 1..253 a class, 255
 * unsure; a mask shape is a base64 index PNG at the image's size where 254 leaves a pixel.
 */
export type LabelShape =
  | { kind: 'stroke'; label: number; radius: number; points: number[] }   // x0,y0,x1,y1,…: a round brush of this radius swept along the polyline (1 point = a dot)
  | { kind: 'erase'; radius: number; points: number[] }                  // back to UNLABELED along the polyline
  | { kind: 'box'; label: number; x0: number; y0: number; x1: number; y1: number } // fills the rectangle
  | { kind: 'polygon'; label: number; points: number[] }                 // fills the polygon (even-odd), ≥ 3 points
  | { kind: 'mask'; png: string };  // base64 PNG, single-channel index, image size: 0..K and 255 set the pixel, 254 leaves it

/** A label a shape may paint with: background, a class, or unsure. */
export const isPaintLabel = (x: unknown): boolean => Number.isInteger(x) && (((x as number) >= 0 && (x as number) <= MAX_CLASS) || x === UNSURE);

export type LabelStatus = 'unlabeled' | 'predicted' | 'accepted' | 'drawn' | 'broken';
export const LABEL_STATUSES: readonly LabelStatus[] = ['unlabeled', 'predicted', 'accepted', 'drawn', 'broken'];

/** 'tags': labels from image tags only (pseudo masks). */
export type LabelMode = 'draw' | 'tags';
export const LABEL_MODES: readonly LabelMode[] = ['draw', 'tags'];

/** Backbones a labeling model may use, the default first. nanodet and centernet are COCO-trained detector
 *  backbones (centernet: installed by the user, never bundled). NanoDet is the default: on the real-photo
 *  benchmark (`npm run bench:label`) its features beat the shipped MobileNetV2's, and its weights are
 *  Apache-2.0 (models/nanodet/LICENSE), so they ship with ProtoLab; CenterNet measures better still on
 *  persons, but its weights' licence is unclear. */
export type LabelBackbone = 'mobilenetv2' | 'vgg16' | 'nanodet' | 'centernet';
export const LABEL_BACKBONES: readonly LabelBackbone[] = ['nanodet', 'mobilenetv2', 'vgg16', 'centernet'];
export const DEFAULT_LABEL_BACKBONE: LabelBackbone = LABEL_BACKBONES[0];

export type ExportFormat = 'voc' | 'coco';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['voc', 'coco'];

/** A class as the labeling state stores it (its index + 1 is its label). */
export interface LabelClassDef { name: string; color: string }

/** '#rrggbb' */
export const isHexColor = (x: unknown): x is string => typeof x === 'string' && /^#[0-9a-fA-F]{6}$/.test(x);
