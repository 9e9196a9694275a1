import type { ToolInfo } from './report.js';

/** What `recommend` answers (its JSON document). */
export const RECOMMEND_SCHEMA = 'distrolens/recommend@1';

/** The weight and surface of an image, as `compare` counts them. */
export interface ImageNumbers {
  readonly sizeBytes: number;
  readonly packages: number;
  readonly shells: number;
  readonly packageManagers: number;
  readonly user: string;
  /**
   * The maintenance a move changes (when the report has the section): OS packages behind the
   * release's repository (absent when not checked), how many of them are security updates, and the
   * maintenance burden (docs/rules.md).
   */
  readonly outdated?: number;
  readonly securityUpdates?: number;
  readonly burden?: number;
}

export interface Candidate {
  readonly ref: string;
  readonly family: string;
  readonly runtime: string;
  /** The base alone: estimated from the catalogue, or measured when the candidate could be scanned. */
  readonly base: ImageNumbers & { readonly measured: boolean };
  readonly debug: string;
  readonly nonroot?: string;
  /** What the application has to change to run on it. */
  readonly notes: readonly string[];
}

export interface Recommendation {
  readonly schema: typeof RECOMMEND_SCHEMA;
  readonly tool: ToolInfo;
  readonly image: string;
  readonly current: ImageNumbers & { readonly classification: string };
  /** Already distroless or scratch: nothing smaller to move to. */
  readonly alreadyMinimal: boolean;
  readonly runtime?: string;
  /** How the runtime was recognised. */
  readonly evidence: readonly string[];
  readonly needs: readonly string[];
  readonly candidates: readonly Candidate[];
  readonly breaks: readonly string[];
  readonly debugging: readonly string[];
}
