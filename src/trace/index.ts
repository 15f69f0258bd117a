/** The trace layer's public surface: pure functions from observations to a Trace. */
export { reconstruct, reconstructRecording } from './reconstruct.js';
export { roundMs } from './format-ms.js';
export { eventsHeldBack } from './held-back.js';
export { isTerminalFailure, settledFailure, classifyPostError, OUTCOME_EXIT, OUTCOME_HINT, type PostErrorClass } from './outcome.js';
export { parseRecording, serializeRecording, type Recording } from './recording.js';
export { parseTraceFile } from './trace-file.js';
export { TraceFileError } from './trace-file-error.js';
export {
  eventTime,
  parseEventNameNanos,
  parseMicroTime,
  parseRfc3339,
  parseSecondsTime,
  PRECISION_MS,
  type ParsedTime,
  type TimeSource,
} from './event-time.js';
export { classifyPullFailure, parseGoDuration, parsePulledMessage, type PulledMessage, type PullFailureKind } from './messages.js';
export { formatMs, formatOffset } from './format-ms.js';
export * from './types.js';
