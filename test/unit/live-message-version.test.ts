/** The webhook version a live message carries ahead of its frame, for the webhook dispatcher. */
import { describe, expect, it } from 'vitest';
import { parseLiveMessage } from '../../src/events/live-message.js';

const json = '{"id":"17-0","type":"message.created","userId":"u1","roomId":"GENERAL","data":{}}';
const frame = `id: 17-0\nevent: message.created\ndata: ${json}\n\n`;

describe('parseLiveMessage: the webhook version', () => {
  it('reads the version line, and the frame and room after it as before', () => {
    const event = parseLiveMessage('u1', `wv:12\n${frame}GENERAL`)!;
    expect(event.webhookVersion).toBe('12');
    expect(event.frame).toBe(frame);
    // Compares and prints as its routing fields, as before.
    expect(event).toEqual({ id: '17-0', type: 'message.created', userId: 'u1', roomId: 'GENERAL', json });
  });

  it('reads an empty version, and a room holding line breaks whole', () => {
    const event = parseLiveMessage('u1', `wv:\n${frame}odd\n\nroom`)!;
    expect(event.webhookVersion).toBe('');
    expect(event.roomId).toBe('odd\n\nroom');
    expect(parseLiveMessage('u1', `wv:3\n${frame}`)!.roomId).toBeUndefined();
  });

  it('has no version for the messages of earlier versions (the frame alone, or the envelope)', () => {
    expect(parseLiveMessage('u1', `${frame}GENERAL`)!.webhookVersion).toBeUndefined();
    expect(parseLiveMessage('u1', json)!.webhookVersion).toBeUndefined();
  });

  it('ignores a version line not followed by a frame', () => {
    for (const junk of [
      'wv:3',
      'wv:3\n',
      `wv:3\nwv:4\n${frame}`,
      `wv:3\n${json}`,
      'wv:3\nid: 1-0\nevent: x',
    ]) {
      expect(parseLiveMessage('u1', junk)).toBeUndefined();
    }
  });
});
