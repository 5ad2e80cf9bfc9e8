#!/usr/bin/env python3
"""Disassembles a method that C2 compiled, on a JDK without the hsdis plugin.

Without hsdis, -XX:+PrintAssembly (or -XX:CompileCommand=print,...) falls back to "abstract disassembly": the
machine code as hex words, with HotSpot's own annotations (calls, metadata, implicit null checks) between them.
This script turns one such listing back into bytes and runs objdump on them (x86-64), keeping the annotations
next to the instructions they precede.

    java ... -jar reclaim.jmh/target/benchmarks.jar '^reclaim.jmh.ReadBenchmark\\.enterClose$' -p scheme=ebr \\
         -p barrier=asymmetric -f 1 -wi 2 -i 1 -jvmArgsAppend "--enable-native-access=ALL-UNNAMED \\
         -XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=print,*ReadBenchmark_enterClose_jmhTest::enterClose_avgt_jmhStub" \\
         > print.txt
    tools/jit-disasm.py print.txt            # the last C2 compilation in the file
    tools/jit-disasm.py print.txt --nth 1    # the first one (OSR compilations are listed too)

Needs objdump (binutils). See docs/benchmarks.md for what it showed about enter()+close().
"""
import argparse
import re
import subprocess
import sys
import tempfile


def compilations(lines):
    return [i for i, l in enumerate(lines) if l.startswith('Compiled method (c2)')]


def extract(lines, start):
    """Returns (base address, code bytes, {address: [annotations]}) of the listing that begins at line start."""
    i = start
    while i < len(lines) and '[MachCode]' not in lines[i]:
        i += 1
    code, base, notes = bytearray(), None, {}
    for line in lines[i + 1:]:
        if line.startswith(('[Stub Code]', '[Exception Handler]', 'Compiled method')):
            break
        m = re.match(r'\s*0x([0-9a-f]+): (.*)', line)
        if not m:
            continue
        addr, rest = int(m.group(1), 16), m.group(2)
        if rest.lstrip().startswith(';'):
            notes.setdefault(addr, []).append(rest.strip())
            continue
        if base is None:
            base = addr
        gap = addr - (base + len(code))
        if gap > 0:
            code += b'\x90' * gap
        code += bytes.fromhex(re.sub(r'[^0-9a-f]', '', rest.split(';')[0]))
    return base, bytes(code), notes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('listing')
    ap.add_argument('--nth', type=int, default=0, help='which C2 compilation, 1-based (default: the last)')
    args = ap.parse_args()
    lines = open(args.listing, errors='replace').read().split('\n')
    found = compilations(lines)
    if not found:
        sys.exit('no "Compiled method (c2)" listing in ' + args.listing)
    start = found[args.nth - 1] if args.nth else found[-1]
    print(lines[start])
    base, code, notes = extract(lines, start)
    if base is None:
        sys.exit('the listing has no machine code')
    with tempfile.NamedTemporaryFile(suffix='.bin') as f:
        f.write(code)
        f.flush()
        out = subprocess.run(['objdump', '-D', '-b', 'binary', '-mi386:x86-64', '--adjust-vma=0x%x' % base, f.name],
                             capture_output=True, text=True, check=True).stdout
    for line in out.split('\n'):
        m = re.match(r'\s*([0-9a-f]+):', line)
        if m:
            for note in notes.get(int(m.group(1), 16), []):
                print('                ' + note)
        if line.strip():
            print(line)


if __name__ == '__main__':
    main()
