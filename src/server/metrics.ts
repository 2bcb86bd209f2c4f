// The server's Prometheus figures (GET /metrics) through prom-client: agents connected to this
// process, logins by result, request latency per route, and prom-client's process and Node figures
// (CPU, memory, event-loop lag, GC). In memory, per process: Prometheus sums replicas.

import { Counter, Gauge, Histogram, type LabelValues } from 'prom-client';
import { processRegistry } from './prometheus.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LOGIN_RESULTS = ['success', 'invalid', 'suspended', 'rate_limited', 'disabled', 'refused'];

type RequestLabels = 'route' | 'method' | 'code';

export class ServerMetrics {
  agentsConnected = 0;
  readonly registry = processRegistry();
  private readonly logins: Counter<'result'>;
  private readonly requests: Histogram<RequestLabels>;
  /** the histogram's child per route, method and status class, found once (this runs for every request) */
  private readonly children = new Map<string, { observe(v: number): void }>();

  constructor() {
    const registers = [this.registry];
    const self = this;
    new Gauge({
      name: 'coder_git_agents_connected',
      help: 'Agents connected to this server process.',
      registers,
      collect() {
        this.set(self.agentsConnected);
      },
    });
    this.logins = new Counter({ name: 'coder_git_logins_total', help: 'Sign-in attempts, by result.', labelNames: ['result'], registers });
    for (const r of LOGIN_RESULTS) this.logins.inc({ result: r }, 0); // every result shown from the start, at 0
    this.requests = new Histogram({ name: 'coder_git_http_request_duration_seconds', help: 'Request latency by route.', labelNames: ['route', 'method', 'code'], buckets: BUCKETS, registers });
  }

  login(result: string): void {
    this.logins.inc({ result });
  }

  request(route: string, method: string, status: number, seconds: number): void {
    const short = `${route}\0${method}\0${Math.floor(status / 100)}`;
    let child = this.children.get(short);
    if (!child) {
      const labels: LabelValues<RequestLabels> = { route, method, code: `${Math.floor(status / 100)}xx` };
      this.children.set(short, (child = this.requests.labels(labels)));
    }
    child.observe(seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.registry.clear();
  }
}
