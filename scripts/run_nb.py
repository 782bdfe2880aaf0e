#!/usr/bin/env python
"""Execute notebooks in place so that their committed outputs are real outputs of a named run.

    .venv/bin/python scripts/run_nb.py nbs/01_graph.ipynb [more.ipynb ...] [--flags slow]

Cells carrying a flag of settings.ini's `tst_flags` (e.g. `#| slow`) are skipped, exactly as
`nbdev_test` skips them, unless the flag is passed with `--flags`; a skipped cell keeps the
outputs it had. Cells marked `#| eval: false` are never run. Stops at the first error.
"""
import argparse, os, sys, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from nbdev.config import get_config
from nbdev.process import extract_directives
from fastcore.foundation import working_directory

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--flags', default='', help='space-separated tst_flags to run instead of skip')
    a = p.parse_args()
    skip = set(get_config().get('tst_flags', '').split()) - set(a.flags.split())
    os.environ.setdefault('MPLBACKEND', 'Agg')
    for fn in a.notebooks:
        fn = fn.resolve()
        nb = read_nb(fn)
        def no_eval(cell):
            if cell.cell_type != 'code': return True
            direc = extract_directives(cell.copy(), remove=False) or {}
            if direc.get('eval:', [''])[0].lower() == 'false': return True
            return bool(skip & direc.keys())
        t0 = time.time()
        shell = CaptureShell(fn)
        with working_directory(fn.parent):
            try: shell.run_all(nb, exc_stop=True, preproc=no_eval)
            except Exception:
                sys.stderr.write(shell.prettytb(fname=fn) + '\n'); sys.exit(1)
        write_nb(nb, fn)
        print(f'{fn.name}: executed in {time.time()-t0:.1f}s (skipped flags: {sorted(skip) or "none"})')

if __name__ == '__main__': main()
