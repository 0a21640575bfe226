// inertText (src/shared/inertText.ts): untrusted text cannot form a link or an icon in a VS Code
// notification, progress title or quick pick, and still reads the same.
import * as assert from 'node:assert/strict';
import { NOTIFICATION_LINK, inertText } from '../../src/shared/inertText';

const visible = (text: string) => text.replace(/\u200b/g, '');

describe('inertText', () => {
  const payloads = [
    '[click me](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%20-rf%20~%22%7D)',
    'tensor "[x](command:workbench.action.quit)" has shape [2, 3]',
    'see [docs](https://example.com/a) and [file](file:///etc/passwd)',
    'nested [[a](command:x)](command:y) and [b]  (command:z)',
    '$(zap) looks like an icon; $(gear)',
  ];
  for (const payload of payloads) {
    it(`neutralises ${JSON.stringify(payload.slice(0, 40))}…`, () => {
      const safe = inertText(payload);
      NOTIFICATION_LINK.lastIndex = 0;
      assert.equal(NOTIFICATION_LINK.test(safe), false, `a link survives in ${JSON.stringify(safe)}`);
      assert.ok(!/\$\(/.test(safe), 'no $( icon syntax survives');
      assert.equal(visible(safe), payload, 'the text reads the same');
    });
  }

  it('the link pattern does find the raw payloads (the test would catch a regression)', () => {
    for (const payload of payloads.slice(0, 3)) {
      NOTIFICATION_LINK.lastIndex = 0;
      assert.ok(NOTIFICATION_LINK.test(payload), payload);
    }
  });

  it('leaves ordinary text alone', () => {
    for (const text of ['Model folder not found: /home/me/models/gpt2.', 'shape [1, 2] (float32)', '我爱你 [0, 1)']) assert.equal(inertText(text), text);
  });
});
