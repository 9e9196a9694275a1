import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { binaryFacts, javaApplication, pythonImports } from './closure.js';

test('binary facts: the names in a binary are found whole wherever they fall, windows or not', () => {
  // A real ELF (glibc's static ldconfig) without its section headers (so the whole file is
  // searched), followed by padding that puts names across the 4 MiB window boundaries the search uses.
  const elf = Buffer.from(readFileSync('/sbin/ldconfig'));
  elf.writeUInt16LE(0, 0x3c); // e_shnum
  const window = 4 * 1024 * 1024;
  const names = ['/usr/share/zoneinfo/Europe/Paris', '/etc/ssl/openssl.cnf'];
  const parts: Buffer[] = [elf];
  let length = elf.length;
  for (const [i, name] of names.entries()) {
    const at = (i + 1) * window - Math.floor(name.length / 2);
    parts.push(Buffer.alloc(at - length), Buffer.from(name));
    length = at + name.length;
  }
  const facts = binaryFacts(Buffer.concat(parts));
  assert.equal(facts?.kind, 'elf');
  const paths = facts.kind === 'elf' ? facts.paths : [];
  for (const name of names) assert.ok(paths.includes(name), name);
  // No truncated copy of a name cut by a window's end.
  for (const p of paths) assert.ok(!names.some((n) => n !== p && n.startsWith(p) && p.length > 10), p);
  assert.deepEqual(binaryFacts(Buffer.from('#!/usr/bin/env python3 -u\nprint(1)\n')), {
    kind: 'script',
    shebang: ['/usr/bin/env', 'python3', '-u'],
  });
  assert.equal(binaryFacts(Buffer.from('plain text')), undefined);
});

test('binary facts: with section headers, only data sections are searched (code names nothing)', () => {
  const elf = readFileSync('/sbin/ldconfig');
  const facts = binaryFacts(Buffer.concat([elf, Buffer.from('\0/etc/appended-after-the-sections\0')]));
  const paths = facts?.kind === 'elf' ? facts.paths : [];
  // ldconfig's own configuration file is named in its .rodata.
  assert.ok(paths.includes('/etc/ld.so.conf'), paths.join(' '));
  assert.ok(!paths.includes('/etc/appended-after-the-sections'));
});

test('what a java command runs besides the JVM: -jar, class and module paths, a source file, CLASSPATH', () => {
  assert.deepEqual(javaApplication(['-Xmx1g', '-jar', '/app/app.jar', '--port', '8080']), ['/app/app.jar']);
  assert.deepEqual(javaApplication(['-cp', '/app/lib/*:/app/classes', 'com.example.Main']), [
    '/app/lib',
    '/app/classes',
  ]);
  assert.deepEqual(javaApplication(['--class-path=/opt/a.jar', '-p', '/opt/mods', '-m', 'app/app.Main']), [
    '/opt/a.jar',
    '/opt/mods',
  ]);
  assert.deepEqual(javaApplication(['-Dx=y', '/app/Hello.java', 'arg.java']), ['/app/Hello.java']);
  // A bare main class: its class path is CLASSPATH when set, else the working directory (not guessed).
  assert.deepEqual(javaApplication(['com.example.Main'], '/srv/classes:/srv/lib/*'), ['/srv/classes', '/srv/lib']);
  assert.deepEqual(javaApplication(['com.example.Main']), []);
  // -cp wins over CLASSPATH, as for java itself.
  assert.deepEqual(javaApplication(['-cp', '/a', 'Main'], '/b'), ['/a']);
});

test('the top-level names a Python file imports', () => {
  const source = [
    'import os, sys as system',
    'import xml.etree.ElementTree as ET',
    'from flask import Flask',
    '    from requests.adapters import HTTPAdapter  # inside a function',
    'from . import sibling',
    'from .models import thing',
    '# import commented',
    'x = "import not_at_line_start"',
    'import yaml; import json',
  ].join('\n');
  assert.deepEqual(pythonImports(source).sort(), ['flask', 'json', 'os', 'requests', 'sys', 'xml', 'yaml']);
});
