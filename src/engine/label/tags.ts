// Image tags for weak labeling (`protolab label --tags FILE`): which classes each image shows, no masks.
// Two spellings:
//   JSON    { "a.jpg": ["cat", "dog"], "sub/b.jpg": [] }     (a comma-separated string works too)
//   lines   a.jpg: cat, dog                                  one image a line; the image is everything
//           sub/b.jpg:                                       before the LAST colon; '#' starts a comment
// An image tagged with no class shows only background (a useful negative example).
import { DataError } from '../errors';

export function parseTags(text: string, file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const split = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const add = (image: string, names: string[], where: string) => {
    const img = image.trim();
    if (!img) throw new DataError(file, `${where}: no image name`);
    if (out.has(img)) throw new DataError(file, `${where}: ${img} is tagged twice`);
    out.set(img, [...new Set(names)]);
  };
  if (text.trimStart().startsWith('{')) {
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch (e) {
      throw new DataError(file, `not valid JSON (${(e as Error).message})`);
    }
    for (const [img, v] of Object.entries(o as Record<string, unknown>)) {
      if (typeof v === 'string') add(img, split(v), `"${img}"`);
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) add(img, (v as string[]).map((x) => x.trim()).filter(Boolean), `"${img}"`);
      else throw new DataError(file, `"${img}": tags must be a list of class names or a comma-separated string`);
    }
  } else {
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.replace(/#.*$/, '').trim();
      if (!line) return;
      const c = line.lastIndexOf(':');
      if (c < 0) throw new DataError(file, `line ${i + 1}: expected "image: class, class" (got "${line}")`);
      add(line.slice(0, c), split(line.slice(c + 1)), `line ${i + 1}`);
    });
  }
  if (!out.size) throw new DataError(file, 'no image is tagged');
  return out;
}
