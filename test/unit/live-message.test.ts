/** The live channel's message: the event's SSE frame and its room, read without parsing the envelope. */
import { describe, expect, it } from 'vitest';
import { parseLiveMessage } from '../../src/events/live-message.js';

const json = '{"id":"17-0","type":"message.created","userId":"u1","roomId":"GENERAL","data":{"msg":"a\\nb"}}';
const frame = `id: 17-0\nevent: message.created\ndata: ${json}\n\n`;

describe('parseLiveMessage', () => {
  it('takes id, type and room beside the envelope, and keeps the frame as published', () => {
    const event = parseLiveMessage('u1', `${frame}GENERAL`)!;
    expect(event).toEqual({ id: '17-0', type: 'message.created', userId: 'u1', roomId: 'GENERAL', json });
    expect(event.frame).toBe(frame);
  });

  it('reads an event without a room, and a room holding line breaks whole', () => {
    expect(parseLiveMessage('u1', frame)!.roomId).toBeUndefined();
    expect(parseLiveMessage('u1', `${frame}odd\n\nroom`)!.roomId).toBe('odd\n\nroom');
  });

  it('reads the envelope-only messages of earlier versions (rolling upgrades)', () => {
    const event = parseLiveMessage('u1', json)!;
    expect(event).toEqual({ id: '17-0', type: 'message.created', userId: 'u1', roomId: 'GENERAL', json });
    expect(event.frame).toBe(frame);
  });

  it('ignores anything else, including line breaks that would smuggle SSE fields', () => {
    for (const junk of [
      '',
      'null',
      '7',
      'not json',
      '{"id":5}',
      '{"id":"1-0","type":"x\\nevent: y"}',
      '{"id":"1-0",\n"type":"x"}',
      'id: 1-0',
      'id: 1-0\nevent: x',
      'id: 1-0\nevent: x\ndata: {}',
      'id: 1-0\nnope: x\ndata: {}\n\n',
    ]) {
      expect(parseLiveMessage('u1', junk)).toBeUndefined();
    }
  });
});
