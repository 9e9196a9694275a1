import { builtinRules, rematchReport, scanImage } from '../scan/scan.js';
import { checkBase } from './base.js';
import { EXIT, type CliIo } from './io.js';
import { runImageCommand } from './image-command.js';
import { atOrAbove, failingFindings, IMAGE_OPTIONS_HELP } from './options.js';
import type { Report } from '../core/report.js';
import { renderScan, SCAN_FORMATS, type ScanFormat } from '../report/formats.js';
import { recommend } from '../recommend/index.js';
import { TOOL } from '../version.js';
import { countVulns, evaluatePolicy, summarizeVulns } from '../policy/index.js';

/** The HTML page also says which base to move to (from the catalogue; nothing is pulled). */
const render = (report: Report, format: string, width?: number): string =>
  renderScan(format as ScanFormat, report, {
    rules: builtinRules,
    recommendation: () => recommend(report, TOOL),
    width,
  });

export const SCAN_HELP = `Usage: distrolens scan INPUT [options]

Measures an image: OS and classification (distroless, distroless-debug, minimal, general,
scratch), packages, attack surface (shells, package managers, network tools, interpreters, build
tools, privilege tools, setuid/setgid, world-writable, capabilities), accounts (empty passwords,
extra root accounts), config (root user, shell form, secrets in env), size and waste (dive's
definitions), with findings and a score from A to F.

Options:
  -f, --format FORMAT[=FILE]    ${SCAN_FORMATS.join(', ')} (table by default); repeat
                                it to write several, each to its own file (e.g. -f sarif=out.sarif)

${IMAGE_OPTIONS_HELP}

Vulnerabilities come from the local database built by \`distrolens db update\`. Without one, a
scan fetches the feeds its image needs (its distribution's, its language packages'), builds the
database and goes on; DISTROLENS_DB_SOURCE names a mirror. With --offline or --skip-db-update the
report says vulnerabilities were not checked (W_VULN_DB_MISSING) and lists none.
`;

/** `distrolens scan`: the main job. */
export const scanCommand = (args: string[], io: CliIo): Promise<number> =>
  runImageCommand(
    {
      name: 'scan',
      help: SCAN_HELP,
      formats: SCAN_FORMATS,
      vulnerabilities: true,
      run: async (source, { platform, cacheDir, onBytes, vulnerabilities, signal }) =>
        (
          await scanImage(source, {
            ...(platform ? { platform } : {}),
            ...(cacheDir ? { cacheDir } : {}),
            ...(signal ? { signal } : {}),
            onBytes,
            ...(vulnerabilities ? { vulnerabilities } : {}),
          })
        ).report,
      render,
      rematch: (report, vulnerabilities) => rematchReport(report, vulnerabilities),
      online: (report, { open, vulnerabilities }) => checkBase(report, open, vulnerabilities),
      gate: (report, { failOn, policy }) => {
        const messages: string[] = [];
        const verdict = policy ? evaluatePolicy(report, policy) : undefined;
        const acceptedIds = new Set(verdict?.accepted.map((a) => a.finding.fingerprint));
        if (failOn !== undefined) {
          const findings = failingFindings(
            report.findings.filter((f) => !acceptedIds.has(f.fingerprint)),
            failOn,
          );
          if (findings) messages.push(findings);
          const acceptedVulns = new Set(verdict?.acceptedVulnerabilities.map((a) => a.vulnerability));
          const vulns = report.vulnerabilities.filter(
            (v) => v.severity !== 'unknown' && atOrAbove(v.severity, failOn) && !acceptedVulns.has(v),
          );
          if (vulns.length)
            messages.push(`${countVulns(vulns.length)} at or above ${failOn}: ${summarizeVulns(vulns)}`);
        }
        for (const v of verdict?.violations ?? []) messages.push(`policy ${v.check}: ${v.message}`);
        return messages.length ? { code: EXIT.policy, message: `gate failed: ${messages.join('\n  ')}` } : undefined;
      },
    },
    args,
    io,
  );
