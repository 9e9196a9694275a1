/** The tool version printed by --version and written into reports. Kept in step with package.json by a test. */
export const VERSION = '0.1.0';

/** The `tool` field of every JSON document distrolens writes. */
export const TOOL = { name: 'distrolens', version: VERSION } as const;
