/**
 * apk's installed database (/lib/apk/db/installed): records of single-letter fields separated
 * by blank lines; `F:` starts a directory, the `R:` lines after it are its files.
 * https://wiki.alpinelinux.org/wiki/Apk_spec#Installed_Database_V2
 */
export interface ApkRecord {
  readonly name: string;
  readonly version: string;
  readonly arch?: string;
  readonly origin?: string;
  readonly license?: string;
  /** `t:`, the package's build time (seconds since the epoch). */
  readonly buildTime?: number;
  readonly files: readonly string[];
}

/** Longer `F:`/`R:` lines are not paths (PATH_MAX is 4096); their files are not recorded. */
const MAX_PATH = 4096;
/** File paths kept over a whole database; a real one (a large image) records a few hundred thousand. */
const MAX_FILE_PATHS = 2_000_000;

/** Parses the database in one pass, linear in its size: over-long paths and path floods are dropped. */
export function parseApkInstalled(text: string): ApkRecord[] {
  let paths = 0;
  const records: ApkRecord[] = [];
  let fields = new Map<string, string>();
  let files: string[] = [];
  let dir: string | undefined = '';
  const flush = (): void => {
    const name = fields.get('P');
    const version = fields.get('V');
    if (name && version) {
      const arch = fields.get('A');
      const origin = fields.get('o');
      const license = fields.get('L');
      const buildTime = Number(fields.get('t'));
      records.push({
        name,
        version,
        ...(arch ? { arch } : {}),
        ...(origin ? { origin } : {}),
        ...(license ? { license } : {}),
        ...(Number.isInteger(buildTime) && buildTime > 0 ? { buildTime } : {}),
        files,
      });
    }
    fields = new Map();
    files = [];
    dir = '';
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (line[1] !== ':') continue;
    const key = line[0]!;
    const value = line.slice(2);
    if (key === 'F') dir = value.length > MAX_PATH ? undefined : value;
    else if (key === 'R') {
      if (dir !== undefined && value.length <= MAX_PATH && paths < MAX_FILE_PATHS) {
        files.push(`/${dir ? `${dir}/` : ''}${value}`);
        paths++;
      }
    } else if (!fields.has(key)) fields.set(key, value);
  }
  flush();
  return records;
}
