// Listens for browsers: the relay app on a Node HTTP server.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createRelayApp, type RelayAppOptions } from './relay-app.js';

/** A listening relay. */
export interface RelayServer {
  /** `http://host:port` with the real port. */
  url: string;
  /** Stops accepting, ends open page streams and resolves once the server has closed. */
  close(): Promise<void>;
}

/** Options of {@link startRelay}: the app's, plus where to listen. */
export interface StartRelayOptions extends RelayAppOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

/** Serves the relay app; resolves once it listens. */
export function startRelay({ host = '127.0.0.1', port = 3000, ...options }: StartRelayOptions): Promise<RelayServer> {
  const app = createRelayApp(options);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      server.off('error', reject);
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            // Page streams stay open until their run ends; a shutdown should not wait for that.
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
