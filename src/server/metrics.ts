// The server's Prometheus figures (GET /metrics): agents connected to this process, logins by result,
// request latency per route. In memory, per process: Prometheus sums replicas.

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class ServerMetrics {
  agentsConnected = 0;
  private logins = new Map<string, number>();
  private requests = new Map<string, { buckets: number[]; sum: number; count: number }>();
  /** label strings by route, method and status class, made once (this runs for every request) */
  private keys = new Map<string, string>();

  login(result: string): void {
    this.logins.set(result, (this.logins.get(result) ?? 0) + 1);
  }

  request(route: string, method: string, status: number, seconds: number): void {
    const short = `${route}\0${method}\0${Math.floor(status / 100)}`;
    let key = this.keys.get(short);
    if (key === undefined) this.keys.set(short, (key = `route="${route.replace(/"/g, '')}",method="${method}",code="${Math.floor(status / 100)}xx"`));
    let h = this.requests.get(key);
    if (!h) this.requests.set(key, (h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.buckets[i]!++;
    h.sum += seconds;
    h.count++;
  }

  text(): string {
    const out = [
      '# HELP coder_git_agents_connected Agents connected to this server process.',
      '# TYPE coder_git_agents_connected gauge',
      `coder_git_agents_connected ${this.agentsConnected}`,
      '# HELP coder_git_logins_total Sign-in attempts, by result.',
      '# TYPE coder_git_logins_total counter',
      ...['success', 'invalid', 'suspended', 'rate_limited', 'disabled', 'refused'].map((r) => `coder_git_logins_total{result="${r}"} ${this.logins.get(r) ?? 0}`),
      '# HELP coder_git_http_request_duration_seconds Request latency by route.',
      '# TYPE coder_git_http_request_duration_seconds histogram',
    ];
    for (const [k, h] of this.requests) {
      BUCKETS.forEach((b, i) => out.push(`coder_git_http_request_duration_seconds_bucket{${k},le="${b}"} ${h.buckets[i]}`));
      out.push(`coder_git_http_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      out.push(`coder_git_http_request_duration_seconds_sum{${k}} ${h.sum}`, `coder_git_http_request_duration_seconds_count{${k}} ${h.count}`);
    }
    return `${out.join('\n')}\n`;
  }

  close(): void {}
}
