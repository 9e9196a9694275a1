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
  readonly files: readonly string[];
}

export function parseApkInstalled(text: string): ApkRecord[] {
  const records: ApkRecord[] = [];
  let fields = new Map<string, string>();
  let files: string[] = [];
  let dir = '';
  const flush = (): void => {
    const name = fields.get('P');
    const version = fields.get('V');
    if (name && version) {
      const arch = fields.get('A');
      const origin = fields.get('o');
      const license = fields.get('L');
      records.push({
        name,
        version,
        ...(arch ? { arch } : {}),
        ...(origin ? { origin } : {}),
        ...(license ? { license } : {}),
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
    if (key === 'F') dir = value;
    else if (key === 'R') files.push(`/${dir ? `${dir}/` : ''}${value}`);
    else if (!fields.has(key)) fields.set(key, value);
  }
  flush();
  return records;
}
