import type { Server } from 'bun';
import type { Config } from '../config.ts';
import { ConfigError, errorMessage } from '../errors.ts';

const starting = () =>
  Response.json(
    { error: { code: 'starting', message: 'Tokenline is starting; try again shortly' } },
    { status: 503, headers: { 'retry-after': '1' } },
  );

/**
 * Claims the HTTP port before the service joins its consumer group, so that a port in use
 * stops start-up at once, naming the setting, instead of after partitions were assigned.
 * Until `serve` hands it the API, it answers every request 503.
 */
export function claimHttpPort(http: Config['http']): {
  server: Server<undefined>;
  serve(fetch: (request: Request) => Response | Promise<Response>): void;
} {
  let server: Server<undefined>;
  try {
    server = Bun.serve({ hostname: http.host, port: http.port, fetch: starting });
  } catch (error) {
    const reason = errorMessage(error);
    const code = (error as { code?: unknown }).code;
    // Only a port in use (or one below 1024) is the port's fault; a name that does not
    // resolve, or an address this machine does not have, is the host's.
    const portFault = code === 'EADDRINUSE' || code === 'EACCES';
    const field = portFault ? 'http.port' : 'http.host';
    const advice = portFault
      ? 'set http.port or TOKENLINE_HTTP_PORT to a free port'
      : 'set http.host to an address of this machine, such as 127.0.0.1 or 0.0.0.0';
    throw new ConfigError(
      field,
      `cannot listen on ${http.host}:${http.port} (${reason}); ${advice}`,
    );
  }
  return { server, serve: (fetch) => server.reload({ fetch }) };
}
