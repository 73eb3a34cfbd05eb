// Colours of the labels on the labeling canvas: classes take the theme palette (colors.ts; a colour the
// labeling state fixes wins), background takes the theme's blue (the class palette leaves the blue band
// out, so it never collides with a class), unsure is the palette's neutral "ignore" colour drawn in
// stripes by the annotation layer.
import { parseColor, themePalette, type Palette, type Rgba } from '../../colors';
import { UNSURE, type LabelClass } from '../../../shared/webviewLabelProtocol';

export interface LabelColors {
  of(label: number): Rgba;
  css(label: number): string;
}

const cssVar = (name: string): string => getComputedStyle(document.documentElement).getPropertyValue(`--vscode-${name}`).trim();

export function labelColors(classes: readonly LabelClass[], pal: Palette = themePalette()): LabelColors {
  const fixed = new Map<number, Rgba>();
  for (const c of classes) if (c.color) fixed.set(c.id, parseColor(c.color));
  const bg = parseColor(cssVar('charts-blue') || '#3794ff');
  const of = (label: number): Rgba => (label === 0 ? bg : label === UNSURE ? pal.ignore : fixed.get(label) ?? pal.cls(label));
  return { of, css: (label) => `rgb(${of(label).slice(0, 3).join(', ')})` };
}
