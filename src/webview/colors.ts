// Theme-aware colours. Class colours come from the theme's chart and terminal palettes (read from the
// --vscode-* variables VS Code sets on <html>), so they fit light, dark and high-contrast themes; when
// a class ordinal runs past them, golden-angle hues at the theme's lightness take over. Error-map
// colours come from the theme's error / info colours.

export type Rgba = [number, number, number, number];

// Reds and blues are left out on purpose: they mean "false positive" / "false negative" in the error
// map. The theme's other chart colours take the first ordinals; the rest step by the golden angle
// (the golden ratio of the 275° left, so consecutive ordinals, e.g. one PASCAL-5i fold, land far apart).
const CLASS_VARS = ['charts-orange', 'charts-green', 'charts-purple', 'charts-yellow'];
const FALLBACK = ['#d18616', '#89d185', '#b180d7', '#cca700'];
/** Hue wheel without the red (330°–20°) and blue (200°–235°) bands: 275° left. */
const allowedHue = (t: number): number => (t < 180 ? 20 + t : 235 + (t - 180));

let probe: CanvasRenderingContext2D | null = null;
/** Any CSS colour → RGBA bytes (the canvas normalises it for us). */
export function parseColor(css: string): Rgba {
  probe ??= document.createElement('canvas').getContext('2d', { willReadFrequently: true });
  if (!probe) return [128, 128, 128, 255];
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = '#000';
  probe.fillStyle = css;
  probe.fillRect(0, 0, 1, 1);
  const d = probe.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2], d[3]];
}

const cssVar = (name: string): string => getComputedStyle(document.documentElement).getPropertyValue(`--vscode-${name}`).trim();

export interface Palette {
  /** colour of dataset class ordinal c (c ≥ 1) */
  cls(c: number): Rgba;
  css(c: number): string;
  /** a truth pixel of a class outside the episode (background for it) */
  other: Rgba;
  ignore: Rgba;
  fp: Rgba;
  fn: Rgba;
  /** foreground predicted as a different episode class (N-way) */
  swap: Rgba;
  fpCss: string;
  fnCss: string;
  swapCss: string;
}

const toCss = (c: Rgba): string => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;

export function themePalette(): Palette {
  const base = CLASS_VARS.map((v, i) => parseColor(cssVar(v) || FALLBACK[i]));
  const fg = parseColor(cssVar('foreground') || '#cccccc');
  const dark = fg[0] + fg[1] + fg[2] > 384; // light text ⇒ dark theme
  const cache = new Map<number, Rgba>();
  const cls = (c: number): Rgba => {
    let col = cache.get(c);
    if (!col) {
      if (c >= 1 && c <= base.length) col = base[c - 1];
      else col = parseColor(`hsl(${Math.round(allowedHue((c * 275 * 0.381966) % 275))}, 65%, ${dark ? 62 : 42}%)`);
      cache.set(c, col);
    }
    return col;
  };
  const fp = parseColor(cssVar('editorError-foreground') || '#f14c4c');
  const fn = parseColor(cssVar('editorInfo-foreground') || '#3794ff');
  const swap = parseColor(cssVar('editorWarning-foreground') || '#cca700');
  return {
    cls,
    css: (c) => toCss(cls(c)),
    other: dark ? [150, 150, 150, 255] : [110, 110, 110, 255],
    ignore: dark ? [230, 230, 230, 255] : [40, 40, 40, 255],
    fp, fn, swap,
    fpCss: toCss(fp), fnCss: toCss(fn), swapCss: toCss(swap),
  };
}

// ---- theme changes --------------------------------------------------------------------------------
// VS Code switches theme by setting the body's classes (vscode-light / vscode-dark /
// vscode-high-contrast[-light]) and data-vscode-theme-* attributes, then the --vscode-* variables in
// <html>'s style attribute, in one task; a MutationObserver's callback runs after that task, when the
// variables are already the new ones. Everything that read colours at draw time redraws then.

const themeListeners = new Set<() => void>();
let themeObserver: MutationObserver | null = null;
let themeKey = '';

const currentThemeKey = (): string => {
  const b = document.body;
  return [b?.className ?? '', b?.dataset.vscodeThemeKind ?? '', b?.dataset.vscodeThemeId ?? '', b?.dataset.vscodeThemeName ?? '', document.documentElement.getAttribute('style') ?? ''].join('\u0000');
};

/**
 * Call `fn` after each theme change (not when the same styles are applied again). With `owner`, the
 * listener goes away at the first change after `owner` left the document (a view that was replaced).
 * Returns a function that removes the listener.
 */
export function onThemeChange(fn: () => void, owner?: Element): () => void {
  if (!themeObserver && document.body) {
    themeKey = currentThemeKey();
    themeObserver = new MutationObserver(() => {
      const key = currentThemeKey();
      if (key === themeKey) return;
      themeKey = key;
      for (const f of [...themeListeners]) {
        try {
          f();
        } catch (e) {
          console.warn(`ProtoLab: redraw after a theme change failed: ${(e as Error).message}`);
        }
      }
    });
    themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind', 'data-vscode-theme-id', 'data-vscode-theme-name'] });
    themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  }
  const listener = (): void => {
    if (owner && !owner.isConnected) {
      themeListeners.delete(listener);
      return;
    }
    fn();
  };
  themeListeners.add(listener);
  return () => themeListeners.delete(listener);
}
