/** Renderers: Trace in, string out. Only commands write anything anywhere. */
export { renderTable, type TableOptions } from './table.js';
export { renderWaterfall, type WaterfallOptions } from './waterfall.js';
export { renderJson, renderYaml, TRACE_KEY_ORDER } from './serialize.js';
