// Image tags for `protolab label --tags`: both spellings, and the mistakes a person makes writing one.
import * as assert from 'assert';
import { DataError } from '../../src/engine/errors';
import { parseTags } from '../../src/engine/label/tags';

describe('label tags file', () => {
  it('lines: image before the last colon, comma-separated classes, comments, an untagged image', () => {
    const t = parseTags('# tags\na.jpg: cat, dog\nsub/b c.jpg:dog\n\nC:/x.jpg: cat # drive letters work\nd.jpg:\n', 'tags.txt');
    assert.deepStrictEqual([...t.entries()], [['a.jpg', ['cat', 'dog']], ['sub/b c.jpg', ['dog']], ['C:/x.jpg', ['cat']], ['d.jpg', []]]);
  });

  it('JSON: lists or comma-separated strings; duplicates collapse', () => {
    const t = parseTags('{"a.jpg": ["cat", "cat", " dog "], "b.jpg": "dog, cat"}', 'tags.json');
    assert.deepStrictEqual([...t.entries()], [['a.jpg', ['cat', 'dog']], ['b.jpg', ['dog', 'cat']]]);
  });

  it('errors name the file and the line', () => {
    const bad = (text: string, re: RegExp) => assert.throws(() => parseTags(text, 'tags.txt'), (e: Error) => e instanceof DataError && e.message.startsWith('tags.txt: ') && re.test(e.message));
    bad('a.jpg cat\n', /line 1: expected "image: class, class"/);
    bad('a.jpg: cat\na.jpg: dog\n', /line 2: a\.jpg is tagged twice/);
    bad(': cat\n', /line 1: no image name/);
    bad('{"a.jpg": [1]}', /"a\.jpg": tags must be a list of class names/);
    bad('{"a.jpg": ', /not valid JSON/);
    bad('# nothing\n', /no image is tagged/);
  });
});
