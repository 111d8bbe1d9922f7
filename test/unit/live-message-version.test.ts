/** The webhook version a live message carries after its room, for the webhook dispatcher. */
import { describe, expect, it } from 'vitest';
import { parseLiveMessage } from '../../src/events/live-message.js';

const json = '{"id":"17-0","type":"message.created","userId":"u1","roomId":"GENERAL","data":{}}';
const frame = `id: 17-0\nevent: message.created\ndata: ${json}\n\n`;

describe('parseLiveMessage: the webhook version', () => {
  it('reads the version after the last separator, the room before it', () => {
    const event = parseLiveMessage('u1', `${frame}GENERAL\x1f12`)!;
    expect(event.roomId).toBe('GENERAL');
    expect(event.webhookVersion).toBe('12');
    expect(event.frame).toBe(frame);
    // Compares and prints as its routing fields, as before.
    expect(event).toEqual({ id: '17-0', type: 'message.created', userId: 'u1', roomId: 'GENERAL', json });
  });

  it('keeps a room holding line breaks or the separator whole, and reads an empty version', () => {
    const odd = parseLiveMessage('u1', `${frame}odd\n\x1f\nroom\x1f`)!;
    expect(odd.roomId).toBe('odd\n\x1f\nroom');
    expect(odd.webhookVersion).toBe('');
    const roomless = parseLiveMessage('u1', `${frame}\x1f3`)!;
    expect(roomless.roomId).toBeUndefined();
    expect(roomless.webhookVersion).toBe('3');
  });

  it('has no version for messages of earlier versions (frame and room only, or the envelope)', () => {
    expect(parseLiveMessage('u1', `${frame}GENERAL`)!.webhookVersion).toBeUndefined();
    expect(parseLiveMessage('u1', frame)!.webhookVersion).toBeUndefined();
    expect(parseLiveMessage('u1', json)!.webhookVersion).toBeUndefined();
  });
});
