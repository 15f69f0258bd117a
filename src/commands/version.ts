import packageJson from '../../package.json' with { type: 'json' };

/** The version recorded in traces and recordings, and printed by --version. */
export const TOOL_VERSION: string = packageJson.version;
