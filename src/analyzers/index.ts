import type { Analyzer } from './types.js';
import { dpkgAnalyzer } from './dpkg/index.js';
import { apkAnalyzer } from './apk/index.js';
import { rpmAnalyzer } from './rpm/index.js';
import { npmAnalyzer } from './lang/npm.js';
import { pythonAnalyzer } from './lang/python.js';
import { golangAnalyzer } from './golang/index.js';
import { javaAnalyzer } from './java/index.js';
import { runtimesAnalyzer } from './runtimes/index.js';
import { rustAnalyzer } from './rust/index.js';
import { surfaceAnalyzer } from './surface/index.js';
import { accountsAnalyzer } from './accounts/index.js';
import { configAnalyzer } from './config/index.js';
import { sizeAnalyzer } from './size/index.js';
import { maintenanceAnalyzer } from './maintenance/index.js';
import { secretsAnalyzer } from './secrets/index.js';
import { entrypointAnalyzer } from './entrypoint/index.js';

/**
 * Every analyzer a scan runs, in order: explicit and reviewable in one place. OS detection
 * (`osDetector`) is the phase before them.
 */
export const builtinAnalyzers: readonly Analyzer[] = [
  dpkgAnalyzer,
  apkAnalyzer,
  rpmAnalyzer,
  npmAnalyzer,
  pythonAnalyzer,
  golangAnalyzer,
  javaAnalyzer,
  rustAnalyzer,
  runtimesAnalyzer,
  entrypointAnalyzer,
  surfaceAnalyzer,
  accountsAnalyzer,
  configAnalyzer,
  secretsAnalyzer,
  sizeAnalyzer,
  maintenanceAnalyzer,
];

export type {
  Analyzer,
  AnalyzerInput,
  AnalyzerOutput,
  Extractor,
  ImageMeta,
  JudgeInput,
  OsInfo,
  Rule,
} from './types.js';
export { detectOs, osDetector } from './os/index.js';
export { diveEfficiency } from './size/index.js';
