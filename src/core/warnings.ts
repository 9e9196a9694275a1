/**
 * The warnings a report can carry: something was read only in part, or not checked, and the
 * report says so instead of failing (partial results over failure).
 */
export const WARNING_CODES = [
  'W_BASE_NOT_CHECKED',
  'W_DPKG_TRUNCATED',
  'W_EOL_DATA_STALE',
  'W_FOREIGN_LAYER',
  'W_HISTORY_MISMATCH',
  'W_IMAGE_DATE_INCONSISTENT',
  'W_MANIFEST_KIND_SKIPPED',
  'W_NAMESPACE_FORBIDDEN',
  'W_NPM_MANIFEST_INVALID',
  'W_PULL_SECRET_UNREADABLE',
  'W_ROOTFS_NO_CONFIG',
  'W_RPMDB_PARTIAL',
  'W_RPMDB_UNREADABLE',
  'W_VULN_DB_MISSING',
  'W_VULN_DB_STALE',
  'W_VULN_GIT_RANGES',
  'W_VULN_RELEASE_ENDED',
] as const;

export type WarningCode = (typeof WARNING_CODES)[number];

export interface ReportWarning {
  readonly code: WarningCode;
  readonly message: string;
}
