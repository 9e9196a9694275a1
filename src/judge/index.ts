import { compareFindings, type Finding } from '../core/finding.js';
import { isOsPackage } from '../core/package.js';
import type { ImageFacts, ReportScore } from '../core/report.js';
import { DEFAULT_RUNTIME, resolveUser, type RuntimeContext } from '../core/runtime.js';
import { builtinAnalyzers, type Analyzer } from '../analyzers/index.js';
import { computeScore } from '../score/index.js';

/**
 * The context an image runs in when nothing else says: its config's USER resolved through its own
 * accounts, and the runtime's defaults (no privilege, escalation allowed, writable root).
 */
export function imageContext(facts: Pick<ImageFacts, 'target' | 'surface'>): RuntimeContext {
  return { origin: 'image', user: resolveUser(facts.target.config.user, facts.surface.users), ...DEFAULT_RUNTIME };
}

/**
 * Judgement: the findings the analyzers' rules draw from an image's facts in a runtime context,
 * and the score they give. Pure: the same facts and context give the same result, and stored
 * reports (which keep the facts) can be judged again for another context without the image.
 */
export function judge(
  facts: ImageFacts,
  context: RuntimeContext = imageContext(facts),
  analyzers: readonly Analyzer[] = builtinAnalyzers,
): { findings: Finding[]; score: ReportScore } {
  const input = { facts, context };
  const findings = analyzers
    .flatMap((analyzer) => analyzer.judge?.(facts.evidence[analyzer.id], input) ?? [])
    .sort(compareFindings);
  return {
    findings,
    score: computeScore(
      findings,
      facts.packages.filter(isOsPackage).length,
      facts.vulnerabilities,
      facts.maintenance?.burden.value,
    ),
  };
}
