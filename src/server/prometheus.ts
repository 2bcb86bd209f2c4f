// A prom-client registry with its process and Node figures (CPU, memory, file descriptors,
// event-loop lag, GC), for the server's and the runner's /metrics. One per endpoint, so two in one
// process (the tests' replicas) do not share figures.

import { Registry, collectDefaultMetrics } from 'prom-client';

// prom-client names three gauges *_total, which `promtool check metrics` refuses for a non-counter;
// the same counts stay available without the suffix (nodejs_active_handles{type=…} and the like).
const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED) registry.removeSingleMetric(name);
  return registry;
}
