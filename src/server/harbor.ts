import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Report } from '../core/report.js';
import type { Vulnerability } from '../core/vulnerability.js';
import { renderCycloneDx } from '../report/cyclonedx.js';
import { renderSpdx } from '../report/spdx.js';
import type { BoundAuth } from '../sources/registry/credentials.js';
import { TOOL } from '../version.js';
import { checkReference, HttpError, readBody, sameSecret, send, type Route } from './app.js';
import { runScanJob, type JobContext } from './job.js';
import { InProcessQueue, type Job } from './queue.js';
import { repositoryOf, type Storage } from './storage.js';

/**
 * Harbor's Pluggable Scanner API v1.2 under /api/v1: Harbor registers distrolens as a scanner,
 * asks for a scan of an artifact (with a short-lived credential for its registry), then polls
 * for the report, answered 302 with Refresh-After until it is ready. The credential is used for
 * that pull only: it stays in this process's memory for the job and is never stored or queued.
 * https://github.com/goharbor/pluggable-scanner-spec
 */
export const HARBOR = {
  metadata: 'application/vnd.scanner.adapter.metadata+json; version=1.1',
  scanRequest: 'application/vnd.scanner.adapter.scan.request+json',
  scanResponse: 'application/vnd.scanner.adapter.scan.response+json; version=1.0',
  error: 'application/vnd.scanner.adapter.error+json; version=1.0',
  vulnReport: 'application/vnd.security.vulnerability.report; version=1.1',
  harborReport: 'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0',
  sbomReport: 'application/vnd.security.sbom.report+json; version=1.0',
  spdx: 'application/spdx+json',
  cyclonedx: 'application/vnd.cyclonedx+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** Seconds Harbor waits before asking again for a report that is not ready. */
const REFRESH_AFTER = 5;

export interface HarborOptions {
  /** The key Harbor presents (Authorization: Bearer KEY, or X-ScannerAdapter-API-Key). */
  readonly apiKey: string;
  readonly storage: Storage;
  readonly context: JobContext;
  readonly allowRegistries?: readonly string[] | undefined;
  readonly vulnDbUpdatedAt?: () => string | undefined;
  readonly concurrency?: number;
}

interface Artifact {
  readonly repository: string;
  readonly digest: string;
  readonly tag?: string;
  readonly mime_type?: string;
}

/** Harbor's answers all carry its error type. */
const harborError = (res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) =>
  send(res, status, HARBOR.error, JSON.stringify({ error: { message } }), headers);

const SEVERITY: Record<Vulnerability['severity'], string> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  info: 'Negligible',
  unknown: 'Unknown',
};
const ORDER = ['Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'];

/** A report in Harbor's vulnerability report format. */
export function harborVulnerabilityReport(report: Report, artifact: Artifact): object {
  const vulnerabilities = report.vulnerabilities.map((v) => ({
    id: v.id,
    package: v.package.name,
    version: v.package.version,
    ...(v.fixedVersion ? { fix_version: v.fixedVersion } : {}),
    severity: SEVERITY[v.severity],
    ...(v.summary ? { description: v.summary } : {}),
    links: [
      v.id.startsWith('CVE-') ? `https://nvd.nist.gov/vuln/detail/${v.id}` : `https://osv.dev/vulnerability/${v.id}`,
    ],
    ...(v.cvss?.version.startsWith('3')
      ? { preferred_cvss: { score_v3: v.cvss.score, vector_v3: v.cvss.vector } }
      : {}),
    vendor_attributes: { source: v.source, aliases: v.aliases, type: v.package.type },
  }));
  const worst = vulnerabilities.reduce(
    (w, v) => (ORDER.indexOf(v.severity) > ORDER.indexOf(w) ? v.severity : w),
    'Unknown',
  );
  return {
    generated_at: report.createdAt,
    artifact,
    scanner: { name: TOOL.name, vendor: TOOL.name, version: TOOL.version },
    severity: vulnerabilities.length ? worst : 'Unknown',
    vulnerabilities,
  };
}

/** `Basic base64(user:password)` or `Bearer token`, for the artifact's registry only. */
function authFrom(header: unknown, registry: string): BoundAuth | undefined {
  if (typeof header !== 'string' || !header) return undefined;
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return { registry, token: value };
  if (scheme?.toLowerCase() === 'basic') {
    const text = Buffer.from(value, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) return { registry, username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  throw new HttpError('E_USAGE', 'registry.authorization must be Basic or Bearer', undefined, {}, 422);
}

/** The routes, and a way to wait for Harbor's scans in flight (the server's shutdown). */
export function harborRoutes(options: HarborOptions): { routes: Route[]; idle: () => Promise<void> } {
  const artifacts = new Map<string, Artifact>();
  const credentials = new Map<string, BoundAuth>();
  const queue = new InProcessQueue(
    (order, progress, signal) => {
      const auth = credentials.get(order.jobId);
      credentials.delete(order.jobId);
      return runScanJob(
        order,
        { ...options.context, open: { ...options.context.open, ...(auth ? { auth } : {}) } },
        progress,
        signal,
      );
    },
    options.concurrency ?? 2,
    100,
  );

  const guarded =
    (handle: (req: IncomingMessage, res: ServerResponse, params: readonly string[], url: URL) => Promise<void>) =>
    async ({
      req,
      res,
      params,
      url,
    }: {
      req: IncomingMessage;
      res: ServerResponse;
      params: readonly string[];
      url: URL;
    }) => {
      const bearer = req.headers.authorization ?? '';
      const key = req.headers['x-scanneradapter-api-key'];
      if (
        !sameSecret(bearer, `Bearer ${options.apiKey}`) &&
        !(typeof key === 'string' && sameSecret(key, options.apiKey))
      )
        return harborError(res, 401, 'the scanner API key is missing or wrong', { 'www-authenticate': 'Bearer' });
      try {
        await handle(req, res, params, url);
      } catch (error) {
        const e = HttpError.from(error);
        harborError(res, e.status === 403 ? 422 : e.status >= 500 ? 500 : e.status, e.message);
      }
    };

  const metadata = () => ({
    scanner: { name: TOOL.name, vendor: TOOL.name, version: TOOL.version },
    capabilities: [
      {
        type: 'vulnerability',
        consumes_mime_types: [HARBOR.ociManifest, HARBOR.dockerManifest],
        produces_mime_types: [HARBOR.harborReport, HARBOR.vulnReport],
      },
      {
        type: 'sbom',
        consumes_mime_types: [HARBOR.ociManifest, HARBOR.dockerManifest],
        produces_mime_types: [HARBOR.sbomReport],
        additional_attributes: { sbom_media_types: [HARBOR.spdx, HARBOR.cyclonedx] },
      },
    ],
    properties: {
      'harbor.scanner-adapter/scanner-type': 'os-package-vulnerability',
      'harbor.scanner-adapter/vulnerability-database-updated-at': options.vulnDbUpdatedAt?.() ?? '',
      'env.DISTROLENS_CHECKS': 'attack surface, weight, packages, vulnerabilities',
    },
  });

  const report = async (res: ServerResponse, job: Job, accept: string, sbomType: string | null): Promise<void> => {
    const artifact = artifacts.get(job.id)!;
    const stored = job.scanId ? await options.storage.getReport(job.scanId) : undefined;
    if (!stored) return harborError(res, 500, 'the report is gone');
    if (accept.startsWith('application/vnd.security.sbom.report+json')) {
      if (sbomType !== HARBOR.spdx && sbomType !== HARBOR.cyclonedx)
        return harborError(res, 400, `sbom_media_type must be ${HARBOR.spdx} or ${HARBOR.cyclonedx}`);
      const sbom = JSON.parse(sbomType === HARBOR.spdx ? renderSpdx(stored) : renderCycloneDx(stored)) as object;
      return send(
        res,
        200,
        HARBOR.sbomReport,
        JSON.stringify({
          generated_at: stored.createdAt,
          artifact,
          scanner: { name: TOOL.name, vendor: TOOL.name, version: TOOL.version },
          media_type: sbomType,
          sbom,
        }),
      );
    }
    const type = accept.includes('vnd.scanner.adapter.vuln.report.harbor+json')
      ? HARBOR.harborReport
      : HARBOR.vulnReport;
    send(res, 200, type, JSON.stringify(harborVulnerabilityReport(stored, artifact)));
  };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/api\/v1\/metadata$/,
      own: true,
      handle: guarded(async (_req, res) => send(res, 200, HARBOR.metadata, JSON.stringify(metadata()))),
    },
    {
      method: 'POST',
      pattern: /^\/api\/v1\/scan$/,
      write: true,
      own: true,
      handle: guarded(async (req, res) => {
        const body = (await readBody(req)) as {
          registry?: { url?: unknown; authorization?: unknown };
          artifact?: Record<string, unknown>;
        };
        if (!body || typeof body !== 'object' || !body.registry || !body.artifact)
          throw new HttpError('E_USAGE', 'registry and artifact are required', undefined, {}, 400);
        const { url, authorization } = body.registry;
        const { repository, digest, tag, mime_type } = body.artifact;
        let registryUrl: URL;
        try {
          registryUrl = new URL(String(url));
        } catch {
          throw new HttpError('E_USAGE', 'registry.url is not a URL', undefined, {}, 422);
        }
        if (typeof repository !== 'string' || !/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/.test(repository))
          throw new HttpError('E_USAGE', 'artifact.repository is invalid', undefined, {}, 422);
        if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest))
          throw new HttpError('E_USAGE', 'artifact.digest is invalid', undefined, {}, 422);
        if (mime_type !== undefined && mime_type !== HARBOR.ociManifest && mime_type !== HARBOR.dockerManifest)
          return harborError(res, 501, `artifacts of type ${JSON.stringify(mime_type)} are not scanned`);
        const registry = registryUrl.host;
        const reference = await checkReference(`${registry}/${repository}@${digest}`, options.allowRegistries).catch(
          (error: unknown) => {
            throw new HttpError('E_USAGE', HttpError.from(error).message, undefined, {}, 422);
          },
        );
        const artifact: Artifact = {
          repository,
          digest,
          ...(typeof tag === 'string' ? { tag } : {}),
          ...(typeof mime_type === 'string' ? { mime_type } : {}),
        };
        const auth = authFrom(authorization, registry);
        const id = randomUUID();
        if (auth) credentials.set(id, auth);
        artifacts.set(id, artifact);
        await queue.submit(
          {
            reference,
            repository: repositoryOf(reference),
            source: 'harbor',
            ...(registryUrl.protocol === 'http:' ? { insecure: true } : {}),
          },
          id,
        );
        send(res, 202, HARBOR.scanResponse, JSON.stringify({ id }));
      }),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/scan\/([\w-]+)\/report$/,
      own: true,
      handle: guarded(async (req, res, params, url) => {
        const job = await queue.get(params[0]!);
        if (!job || !artifacts.has(job.id)) return harborError(res, 404, `no scan request ${params[0]}`);
        const accept = req.headers.accept ?? HARBOR.vulnReport;
        const known = [HARBOR.vulnReport, HARBOR.harborReport, HARBOR.sbomReport].some((t) =>
          accept.replace(/\s/g, '').includes(t.replace(/\s/g, '')),
        );
        if (!known && accept !== '*/*') return harborError(res, 501, `reports of type ${accept} are not produced`);
        if (job.state === 'queued' || job.state === 'running')
          return send(res, 302, 'text/plain', '', { 'refresh-after': String(REFRESH_AFTER) });
        if (job.state !== 'done') return harborError(res, 500, job.error?.message ?? 'the scan failed');
        await report(res, job, accept === '*/*' ? HARBOR.vulnReport : accept, url.searchParams.get('sbom_media_type'));
      }),
    },
  ];
  return { routes, idle: () => queue.idle() };
}
