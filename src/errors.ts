import { EXIT, type ExitCode } from './exit-codes.js';

/**
 * Every failure podtrace expects carries its exit code and a one-line message
 * that tells the person what to do next. Only `main()` turns them into output.
 */
export abstract class PodtraceError extends Error {
  abstract readonly exitCode: ExitCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flag, malformed image reference, invalid -f manifest, conflicting flags. */
export class UsageError extends PodtraceError {
  readonly exitCode = EXIT.usage;
}

/** Kubeconfig missing or unreadable, unknown context, no usable cluster. */
export class KubeconfigError extends PodtraceError {
  readonly exitCode = EXIT.kubeconfig;
}

/** Connection refused, DNS failure, TLS handshake failure. */
export class UnreachableError extends PodtraceError {
  readonly exitCode = EXIT.unreachable;
  constructor(
    message: string,
    readonly server: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class NamespaceNotFoundError extends PodtraceError {
  readonly exitCode = EXIT.namespaceNotFound;
}

/** inspect: no such pod in the namespace. */
export class PodNotFoundError extends PodtraceError {
  readonly exitCode = EXIT.podNotFound;
}

/** create --node: no node of that name. */
export class NodeNotFoundError extends PodtraceError {
  readonly exitCode = EXIT.nodeNotFound;
}

/** 401: expired or invalid credentials. */
export class AuthError extends PodtraceError {
  readonly exitCode = EXIT.unauthenticated;
}

/** Not allowed to do what the run needs (e.g. watch pods or events in the namespace). */
export class ForbiddenError extends PodtraceError {
  readonly exitCode = EXIT.forbidden;
}

/** `podtrace probe --listen`: the address cannot be listened on (in use, not this machine's). */
export class ListenError extends PodtraceError {
  readonly exitCode = EXIT.listenFailed;
}

export class FileWriteError extends PodtraceError {
  readonly exitCode = EXIT.fileWrite;
}

export interface ExitReport {
  exitCode: ExitCode;
  /** One line, no trailing newline. */
  message: string;
  /** Only when debugging was asked for. */
  stack?: string;
}

/** The single mapping from anything thrown to what the person sees and the exit code. */
export function describeFailure(error: unknown, debug: boolean): ExitReport {
  if (error instanceof PodtraceError) {
    return {
      exitCode: error.exitCode,
      message: oneLine(error.message),
      ...(debug && error.stack ? { stack: error.stack } : {}),
    };
  }
  // Errors from other modules that follow the same shape (e.g. the trace core's
  // recording parser) keep their exit code without a hard import of that module.
  const foreignExitCode = error instanceof Error ? (error as Error & { exitCode?: unknown }).exitCode : undefined;
  if (error instanceof Error && isExitCode(foreignExitCode)) {
    return {
      exitCode: foreignExitCode,
      message: oneLine(error.message),
      ...(debug && error.stack ? { stack: error.stack } : {}),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    exitCode: EXIT.internal,
    message: `internal error: ${oneLine(message)} (this is a podtrace bug; rerun with --debug for the stack trace and report it)`,
    ...(debug && error instanceof Error && error.stack ? { stack: error.stack } : {}),
  };
}

const KNOWN_EXIT_CODES = new Set<number>(Object.values(EXIT));

function isExitCode(value: unknown): value is ExitCode {
  return typeof value === 'number' && KNOWN_EXIT_CODES.has(value);
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
