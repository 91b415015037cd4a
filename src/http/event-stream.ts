/**
 * Server-sent events on a hijacked reply, as the admin's tray stream and the kiosk's scan stream
 * send them: the headers (no proxy buffering), a reconnect delay, a comment as heartbeat, and the
 * stream forgotten (`streams`, closed at shutdown) and its subscription ended when the client leaves.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';

export const EVENT_STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

export interface EventStream {
  /** One event, unless the client has gone. */
  send(event: string, data: unknown): void;
  /** Runs `fn` once the client leaves (unsubscribe from what feeds the stream). */
  onClose(fn: () => void): void;
  end(): void;
}

/** Opens the stream of a GET (a HEAD is answered by the route with EVENT_STREAM_HEADERS alone). */
export function openEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  opts: { streams: Set<ServerResponse>; heartbeatMs: number },
): EventStream {
  const res = reply.raw;
  reply.hijack();
  res.writeHead(200, EVENT_STREAM_HEADERS);
  opts.streams.add(res);
  const closers: (() => void)[] = [];
  const heartbeat = setInterval(() => {
    if (!res.writableEnded) res.write(`: ${Date.now()}\n\n`);
  }, opts.heartbeatMs);
  const close = () => {
    clearInterval(heartbeat);
    opts.streams.delete(res);
    for (const fn of closers.splice(0)) fn();
  };
  request.raw.on('close', close);
  res.on('close', close);
  res.write('retry: 2000\n\n');
  return {
    send: (event, data) => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose: (fn) => void closers.push(fn),
    end: () => res.end(),
  };
}
