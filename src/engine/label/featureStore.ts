// Features of the images being labelled, encoded once per (image content, encoder) and kept in memory
// (LRU, bounded bytes) and on disk, so reopening a labelled folder encodes nothing and a stroke never
// re-encodes anything. Built on features/featureCache.ts's FeatureCache (memory LRU + atomic disk files):
// an encoder may give several levels, which are packed into ONE cache entry per image
// (features/levels.ts), so an image is cached, evicted and written whole.
import { createHash } from 'crypto';
import { FeatureCache, type FeatureEntry } from '../features/featureCache';
import { packLevels, unpackLevels } from '../features/levels';
import type { RawImage } from '../types';
import type { LabelEncoder } from './predictor';

export class LabelFeatureStore {
  readonly cache: FeatureCache;

  constructor(readonly encoder: LabelEncoder, maxBytes: number, diskDir?: string) {
    this.cache = new FeatureCache(maxBytes, diskDir);
  }

  key(imageHash: string): string {
    return createHash('sha256').update(`${imageHash}|${this.encoder.key}|packed-levels-v1`).digest('hex').slice(0, 32);
  }

  /** The image's feature levels; `rgb` (S×S) is read only on a miss in memory and on disk. */
  async get(imageHash: string, rgb: () => Promise<RawImage>): Promise<FeatureEntry[]> {
    return unpackLevels(await this.cache.get(this.key(imageHash), async () => packLevels(await this.encoder.encode(await rgb()))));
  }
}
