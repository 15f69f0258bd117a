/** The examples and notes under each command's --help. */

export const CREATE_HELP = `
Words after -- are the container's args (with --command: its command), as with kubectl run.

Examples:
  podtrace create nginx
  podtrace create nginx:1.27 -n demo --readiness http:80/ --timeout 2m
  podtrace create busybox --command -- sleep 3600
  podtrace create -f pod.yaml -o json --record run.ndjson
  podtrace create nginx --runs 5 --fail-on 'ready>5s,pull>2s'
`;

export const INSPECT_HELP = `
Nothing is created or deleted. The API server keeps events 1 h by default: for an older pod
the times come from its status fields, to the second, and the trace says so (run.incomplete).

Examples:
  podtrace inspect web-7d4b9c-x2x8q -n shop
  podtrace inspect web-7d4b9c-x2x8q -n shop -o json --out web.json
`;

export const WATCH_HELP = `
Pods that exist when the watch starts are not traced. Nothing is created or deleted. The run set
goes to --out (default ./traces/watch-<time>.runset.json); podtrace report and diff read it.

Examples:
  podtrace watch -l app=web -n shop --for 10m      # then: kubectl rollout restart deploy/web -n shop
  podtrace watch -l job-name=migrate --count 1 -o json
`;

export const REPORT_HELP = `
Formats: table (terminal), json (per-metric quantiles; schema/report.schema.json), csv (one row per
run and metric, and per run and step), markdown (for a PR comment), html (one self-contained page:
waterfalls, distributions, the diff of two sets), chrome-trace (Perfetto, chrome://tracing),
otlp (OTLP/JSON spans for Jaeger or Tempo). Two files: the report includes their diff.

Examples:
  podtrace report run.json
  podtrace report before.json after.json --out report.html
  podtrace report runs.json -o markdown --fail-on 'ready>5s,pull.p90>2s'
  podtrace report runs.json -o chrome-trace --out trace.perfetto.json
`;

export const DIFF_HELP = `
A metric regressed when B's median is slower than A's by more than its threshold and, with
2 or more runs on each side, the 95% bootstrap interval of the difference excludes 0 (else: noise).
With single traces there is no interval: a change beyond the threshold is a regression.

Examples:
  podtrace diff warm.runset.json cold.runset.json
  podtrace diff before.json after.json --threshold 10% --threshold 50ms --threshold pull=1s
  podtrace diff main.runset.json pr.runset.json -o markdown --fail-on-regression
`;

export const DOCTOR_HELP = `
Nothing is created. Each check is ok, improve (the change that would give podtrace more), unknown
(how to make it checkable) or info. Exit 0 when all is there, 40 when something could be better or
could not be checked; a cluster it cannot reach exits 3, 4 or 6 as every command does.

Examples:
  podtrace doctor
  podtrace doctor --spans http://127.0.0.1:16686
  podtrace doctor --context kind-podtrace -n team -o json
`;

export const PROBE_HELP = `
Rounds never overlap: one still running when the next is due delays it (counted in
podtrace_probe_rounds_delayed_total). A failed round is counted under its class
(podtrace_probe_runs_total{outcome}) and logged in one line; the probe goes on. Metrics:
podtrace_<metric>_seconds histograms (client, api, schedule, kubelet, sandbox, pull, start,
readiness, ready, teardown) labelled node and image, with exemplars carrying each run's trace id.
Exit 0 never while running; 130/143 on SIGINT/SIGTERM (after the round's teardown), 42 when
--listen cannot be listened on, 2 for bad flags.

Examples:
  podtrace probe nginx --every 1m
  podtrace probe -f pod.yaml --every 30s --listen 127.0.0.1:9464 --per-node
`;
