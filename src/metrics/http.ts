/**
 * HTTP request durations, by method, route pattern and status. The route is the pattern the
 * request matched (`/api/trays/:n`), never the raw URL, so the series stay few whatever the
 * callers send; a request that matched no route is counted under one value, `unmatched`.
 */
import { Histogram, type Registry } from 'prom-client';

export const UNMATCHED_ROUTE = 'unmatched';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class HttpMetrics {
  private readonly durations: Histogram<'method' | 'route' | 'status'>;

  constructor(registry: Registry) {
    this.durations = new Histogram({
      name: 'atm247_http_request_duration_seconds',
      help: 'HTTP requests answered, by method, route pattern (unmatched: no route) and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
  }

  /** One request answered; `route` undefined when it matched no route. */
  request(method: string, route: string | undefined, status: number, seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    this.durations.observe({ method, route: route ?? UNMATCHED_ROUTE, status: String(status) }, seconds);
  }
}
