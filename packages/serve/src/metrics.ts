import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus metrics of one server, on its own registry (two servers in a process do not mix). */
export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  errors: Counter<'route' | 'code'>;
  duration: Histogram<'route'>;
  inFlight: Gauge;
  batchSize: Histogram;
  inference: Histogram;
  samples: Counter;
}

export function createMetrics(maxBatch: number): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ebm_' });
  const buckets: number[] = [];
  for (let b = 1; b < maxBatch; b *= 2) buckets.push(b);
  buckets.push(maxBatch);
  return {
    registry,
    requests: new Counter({
      name: 'ebm_requests_total',
      help: 'HTTP requests answered, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'ebm_request_errors_total',
      help: 'Requests answered with an error, by route and EbmError code',
      labelNames: ['route', 'code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'ebm_request_duration_seconds',
      help: 'Time from request to response, by route',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'ebm_requests_in_flight',
      help: 'Requests received and not yet answered',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'ebm_batch_size',
      help: 'Samples per model run formed by the dynamic batcher',
      buckets,
      registers: [registry],
    }),
    inference: new Histogram({
      name: 'ebm_inference_duration_seconds',
      help: 'Time of one model run (ONNX Runtime)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    samples: new Counter({
      name: 'ebm_samples_total',
      help: 'Samples embedded',
      registers: [registry],
    }),
  };
}
