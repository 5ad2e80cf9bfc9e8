#!/usr/bin/env python3
"""Counts the instructions of a JMH stub's steady loop, from the listing tools/jit-disasm.py wrote.

C2 lays a benchmark loop out with its slow paths (uncommon traps, calls) after the loop body, so the path an
iteration takes when every test passes is found by following the code from the loop's safepoint poll
(`test %eax,(%rX)`): fall through, take every unconditional jump and every backward conditional one, skip every
forward conditional one, until the poll comes round again. Prints the instructions on that path and how many of them
read memory; --path prints the path itself.

    tools/jit-disasm.py print.txt > stub.s     # see docs/benchmarks.md for the print.txt command
    tools/jit-loop.py stub.s [--path]

A heuristic, not a proof: read the path it prints before trusting a count (a loop laid out otherwise, or a hot
forward branch, would mislead it).
"""
import argparse
import re
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('listing')
    ap.add_argument('--path', action='store_true', help='print the instructions on the path')
    a = ap.parse_args()
    ins = []
    with open(a.listing) as f:
        for line in f:
            m = re.match(r'\s+([0-9a-f]+):\t(?:[0-9a-f]{2} )+\s*\t(.*)$', line)
            if m:
                ins.append((int(m.group(1), 16), m.group(2).strip()))
    at = {addr: i for i, (addr, _) in enumerate(ins)}
    polls = [i for i, (_, t) in enumerate(ins) if re.match(r'test\s+%eax,\(%r\w+\)', t)]
    if not polls:
        sys.exit('no safepoint poll (test %eax,(%rX)) in ' + a.listing)
    start = polls[0]
    i, n, loads, path = start, 0, 0, []
    while True:
        addr, t = ins[i]
        n += 1
        path.append(t)
        reads = re.search(r'\(%r', t) and not t.startswith('lea') and not re.match(r'mov\S*\s+(%\w+|\$\S+),', t)
        if reads:
            loads += 1
        nxt = i + 1
        m = re.match(r'(j\w+)\s+0x([0-9a-f]+)', t)
        if m:
            target = int(m.group(2), 16)
            if m.group(1) == 'jmp' or target < addr:
                if target not in at:
                    sys.exit('a jump out of the listing at %x: not a loop this tool can follow' % addr)
                nxt = at[target]
        i = nxt
        if i == start or n > 2000 or i >= len(ins):
            break
    print(f'{n} instructions, {loads} reading memory')
    if a.path:
        print('\n'.join(path))


if __name__ == '__main__':
    main()
