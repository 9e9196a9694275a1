import { createHash } from 'node:crypto';
import type { Report } from '../core/report.js';

/**
 * SPDX 2.3 JSON: the image as the described package, each package with its purl as an external
 * reference, CONTAINS relationships. Licences found in package metadata are stated as declared
 * only when they are plain SPDX-looking identifiers; otherwise NOASSERTION with the text in a comment.
 * https://spdx.github.io/spdx-spec/v2.3/
 */
const ID_SAFE = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);
const SPDX_ID = /^[A-Za-z0-9.+-]+$/;

export function renderSpdx(report: Report): string {
  const t = report.target;
  const imageName = t.reference ?? t.input;
  const imageId = `SPDXRef-Image-${ID_SAFE(t.configDigest ?? imageName)}`;
  const seen = new Map<string, number>();
  const packages = report.packages.map((p) => {
    const base = `SPDXRef-Package-${p.type}-${ID_SAFE(`${p.purl}\0${p.locations[0]?.path ?? ''}`)}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    const licenses = p.licenses ?? [];
    const declared = licenses.length && licenses.every((l) => SPDX_ID.test(l)) ? licenses.join(' AND ') : 'NOASSERTION';
    return {
      name: p.name,
      SPDXID: n ? `${base}-${n}` : base,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: declared,
      ...(declared === 'NOASSERTION' && licenses.length
        ? { licenseComments: `As recorded: ${licenses.join('; ')}` }
        : {}),
      copyrightText: 'NOASSERTION',
      sourceInfo: `found at ${p.locations.map((l) => `${l.path} (layer ${l.layer})`).join(', ')}`,
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }],
    };
  });
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: imageName,
    documentNamespace: `https://distrolens.dev/spdx/${ID_SAFE(`${imageName}\0${t.configDigest ?? ''}\0${report.packages.length}`)}`,
    creationInfo: {
      created: report.createdAt.replace(/\.\d+Z$/, 'Z'),
      creators: [`Tool: distrolens-${report.tool.version}`],
    },
    packages: [
      {
        name: imageName,
        SPDXID: imageId,
        ...(t.manifestDigest ? { versionInfo: t.manifestDigest } : {}),
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'NOASSERTION',
        copyrightText: 'NOASSERTION',
        primaryPackagePurpose: 'CONTAINER',
      },
      ...packages,
    ],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId },
      ...packages.map((p) => ({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: p.SPDXID })),
    ],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
