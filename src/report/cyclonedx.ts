import { createHash } from 'node:crypto';
import type { Report } from '../core/report.js';

/**
 * CycloneDX 1.6 JSON: the image as the metadata component (type container), every package as a
 * component with its purl, licences and where it was found (evidence occurrences, layer as a
 * property), a containment dependency from the image to its packages, and the known
 * vulnerabilities with their ratings, fixed versions and the components they affect.
 * https://cyclonedx.org/docs/1.6/json/
 */
/** A UUID derived from content, so the same report gives the same BOM (RFC 4122 layout, version 5 bits). */
export function contentUuid(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('\0')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** CVSS versions as CycloneDX rating methods. */
const METHOD: Record<string, string> = { '3.0': 'CVSSv3', '3.1': 'CVSSv31', '4.0': 'CVSSv4' };

/** One entry per vulnerability id, affecting every component that carries it. */
function vulnerabilities(
  report: Report,
  components: readonly {
    'bom-ref': string;
    name: string;
    version: string;
    properties: readonly { name: string; value: string }[];
  }[],
) {
  const byId = new Map<string, Report['vulnerabilities'][number][]>();
  for (const v of report.vulnerabilities) byId.set(v.id, [...(byId.get(v.id) ?? []), v]);
  return [...byId].map(([id, vulns]) => {
    const first = vulns[0]!;
    const refs = vulns.flatMap((v) =>
      components
        .filter(
          (c) =>
            c.name === v.package.name &&
            c.version === v.package.version &&
            c.properties.some((p) => p.name === 'distrolens:package:type' && p.value === v.package.type),
        )
        .map((c) => c['bom-ref']),
    );
    const fixes = [...new Set(vulns.map((v) => v.fixedVersion).filter((f): f is string => f !== undefined))];
    return {
      'bom-ref': `vuln:${id}`,
      id,
      source: { name: first.source },
      ratings: [
        first.cvss
          ? {
              severity: first.severity,
              score: first.cvss.score,
              method: METHOD[first.cvss.version] ?? 'other',
              vector: first.cvss.vector,
            }
          : { severity: first.severity },
      ],
      ...(first.summary ? { description: first.summary } : {}),
      ...(fixes.length ? { recommendation: `Upgrade to ${fixes.join(' / ')} or later` } : {}),
      ...(first.aliases.length
        ? { references: first.aliases.map((alias) => ({ id: alias, source: { name: alias.split('-')[0]! } })) }
        : {}),
      affects: [...new Set(refs)].map((ref) => ({ ref })),
    };
  });
}

export function renderCycloneDx(report: Report): string {
  const t = report.target;
  const imageName = t.reference ?? t.input;
  const imageRef = `image:${t.configDigest ?? imageName}`;
  const refs = new Map<string, number>();
  const components = report.packages.map((p) => {
    // bom-refs must be unique; the same purl can be found in two places.
    const count = refs.get(p.purl) ?? 0;
    refs.set(p.purl, count + 1);
    const ref = count ? `${p.purl}#${count}` : p.purl;
    return {
      type: p.type === 'binary' ? 'application' : 'library',
      'bom-ref': ref,
      name: p.name,
      version: p.version,
      purl: p.purl,
      ...(p.licenses?.length ? { licenses: p.licenses.map((name) => ({ license: { name } })) } : {}),
      evidence: { occurrences: p.locations.map((l) => ({ location: l.path })) },
      properties: [
        { name: 'distrolens:package:type', value: p.type },
        ...p.locations.map((l) => ({ name: 'distrolens:layer', value: String(l.layer) })),
        ...(p.source ? [{ name: 'distrolens:package:source', value: p.source }] : []),
        ...(p.arch ? [{ name: 'distrolens:package:arch', value: p.arch }] : []),
      ],
    };
  });
  const bom = {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${contentUuid(imageRef, ...report.packages.map((p) => p.purl))}`,
    version: 1,
    metadata: {
      timestamp: report.createdAt,
      tools: { components: [{ type: 'application', name: 'distrolens', version: report.tool.version }] },
      component: {
        type: 'container',
        'bom-ref': imageRef,
        name: imageName,
        ...(t.manifestDigest ? { version: t.manifestDigest } : {}),
        properties: [
          { name: 'distrolens:os', value: report.os.prettyName ?? report.os.id },
          { name: 'distrolens:classification', value: report.os.classification },
          { name: 'distrolens:grade', value: report.score.grade },
          ...(t.configDigest ? [{ name: 'distrolens:configDigest', value: t.configDigest }] : []),
        ],
      },
    },
    components,
    dependencies: [{ ref: imageRef, dependsOn: components.map((c) => c['bom-ref']) }],
    ...(report.vulnerabilities.length ? { vulnerabilities: vulnerabilities(report, components) } : {}),
  };
  return `${JSON.stringify(bom, null, 2)}\n`;
}
