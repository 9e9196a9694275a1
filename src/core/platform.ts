import { errors } from './errors.js';

/** An OCI platform; `variant` only where the architecture has them (arm). */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** The platform chosen when the user names none, as docker and skopeo do on x86-64 hosts. */
export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

/** Parses `os/arch[/variant]`, e.g. `linux/arm64` or `linux/arm/v7`. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !/^[a-z0-9._-]+$/i.test(part))) {
    throw errors.usage(
      `invalid platform ${JSON.stringify(text)}`,
      'use os/arch[/variant], e.g. linux/amd64 or linux/arm/v7',
    );
  }
  const [os, architecture, variant] = parts as [string, string, string?];
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** `linux/arm64/v8` style text for messages and tables. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
