/**
 * Every exit code podtrace uses, in one place; README's "Exit codes" table
 * mirrors this file. Pod outcomes (10-29) come from the trace's classified
 * outcome, the rest from errors raised before or around a trace.
 */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2, // bad flag, malformed image reference, invalid -f manifest, conflicting flags
  kubeconfig: 3, // kubeconfig missing/unreadable, unknown context, no cluster configured
  unreachable: 4, // connection refused, DNS, TLS handshake failure
  namespaceNotFound: 5,
  unauthenticated: 6, // 401: expired or invalid credentials
  badTraceFile: 7, // corrupt, truncated, wrong schema version or unrelated file
  fileWrite: 8, // could not write the trace/report file
  podNotFound: 9, // inspect: no pod of that name in the namespace

  // classified pod outcomes
  unschedulable: 10,
  imagePullNotFound: 11,
  imagePullUnauthorized: 12,
  imagePullBackoff: 13,
  crashLoop: 14,
  containerConfigError: 15,
  sandboxFailure: 16,
  readinessNeverSucceeded: 17,
  admissionRejected: 18,
  validationRejected: 19,
  forbidden: 20,
  timeout: 21,
  podFailed: 22, // the pod ended Failed without becoming Ready (e.g. restartPolicy Never)
  succeeded: 23, // the pod ran to completion (phase Succeeded) without becoming Ready: a Job's pod

  // gates (compare/export)
  thresholdExceeded: 30,
  regression: 31,

  // podtrace doctor (all good is 0; a cluster it cannot reach is 3, 4 or 6)
  doctorImprove: 40, // a source podtrace could use is missing, limited or could not be checked

  // a target named on the command line that does not exist (as 5 and 9, which fill the low range)
  nodeNotFound: 41, // create --node: no node of that name
  listenFailed: 42, // probe --listen: the address is in use or not this machine's

  // signals
  interrupted: 130, // SIGINT
  terminated: 143, // SIGTERM
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
