/** Compact human duration ("850µs", "14.7ms", "3.52s", "2m05s"), shared by trace explanations and renderers. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs === 0) return '0ms';
  if (abs < 1) return `${sign}${Math.round(abs * 1000)}µs`;
  if (abs < 10) return `${sign}${abs.toFixed(1)}ms`;
  if (abs < 999.5) return `${sign}${Math.round(abs)}ms`;
  if (abs < 9995) return `${sign}${(abs / 1000).toFixed(2)}s`;
  if (abs < 59_950) return `${sign}${(abs / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(abs / 1000);
  const m = Math.floor(totalSeconds / 60);
  return `${sign}${m}m${String(totalSeconds - m * 60).padStart(2, '0')}s`;
}

/** An offset from t0 with its sign: "+14.7ms", "-68ms". */
export function formatOffset(ms: number): string {
  return ms < 0 ? formatMs(ms) : `+${formatMs(ms)}`;
}

/** Offsets and durations to the µs: finer digits are float noise on epoch-ms arithmetic. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
