#!/usr/bin/env python
"""Check the built documentation site in a real browser: headless Chromium driven by Selenium.

    .venv/bin/python scripts/build_docs.py && .venv/bin/python scripts/docs_test.py

Serves _docs/ from a local HTTP server on 127.0.0.1 (a free port, stopped at the end), opens every page
in headless Chromium (Debian's `chromium` + `chromium-driver`, installed by `scripts/setup.sh --browser`)
with a fresh profile and no network features, and checks that

* every page loads with no console error (failed resources included) and no JavaScript exception;
* the home page's navigation links to every page of the site, and every page to every other; no link
  between pages (nbdev's doc links included) points to a missing page or anchor;
* each page that has figures (per _docs/pages.json, written by build_docs.py) shows them all, and at
  least one, with non-zero natural size;
* each page with math shows it typeset by the bundled KaTeX: `.katex` elements, no `.katex-error`,
  no raw `$...$`/`$$...$$` left in the text;

and saves screenshots of every page (top, first API table, first figure) into screenshots/ (git-ignored).
Selenium is the W3C WebDriver client; the chromedriver from Debian matches Debian's Chromium exactly.
"""
import argparse, functools, http.server, json, posixpath, re, shutil, sys, tempfile, threading, time
from pathlib import Path
from urllib.parse import urljoin, urldefrag

ROOT = Path(__file__).resolve().parent.parent
CHROME_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync',
                '--disable-dev-shm-usage', '--disable-extensions', '--hide-scrollbars', '--window-size=1400,1000']

# Text of the article outside code, scripts and typeset math: raw TeX left there means KaTeX did not run.
JS_RAW_MATH = r"""
const art = document.querySelector('.gr-main'); const out = [];
const walker = document.createTreeWalker(art, NodeFilter.SHOW_TEXT, {acceptNode(n) {
  return n.parentElement.closest('pre, code, script, style, .katex') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT; }});
let t = ''; while (walker.nextNode()) t += walker.currentNode.nodeValue + '\n';
const m = t.match(/\$\$[\s\S]+?\$\$|\$[^$\s][^$\n]*?\$|\\\(|\\\[/g); return m ? m.slice(0, 3) : [];
"""
JS_IMAGES = """return Array.from(document.querySelectorAll('article img')).map(
  i => [i.complete, i.naturalWidth, i.naturalHeight, (i.getAttribute('src') || '').slice(0, 40)]);"""
JS_LINKS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass


def serve(site):
    "A static file server for `site` on 127.0.0.1 (free port), in a daemon thread: (server, base url)."
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True).start()
    return httpd, f'http://127.0.0.1:{httpd.server_address[1]}/'


def broken_links(site, html_files):
    "Links between the site's pages (doc links included) whose page or #anchor does not exist."
    ids, links = {}, []
    for f in html_files:
        txt = (site / f).read_text(encoding='utf-8')
        ids[f] = set(re.findall(r'\bid="([^"]+)"', txt))
        links += [(f, h) for h in re.findall(r'\bhref="([^":]+\.html(?:#[^"]*)?|#[^"]+)"', txt)]
    bad = []
    for f, h in links:
        page, _, frag = h.partition('#')
        target = posixpath.normpath(posixpath.join(posixpath.dirname(f), page)) if page else f
        if target not in ids or (frag and frag not in ids[target]): bad.append(f'{f} -> {h}')
    return sorted(set(bad))


def make_driver(profile, chromium, chromedriver, page_timeout):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for f in CHROME_FLAGS + [f'--user-data-dir={profile}']: opts.add_argument(f)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    drv = webdriver.Chrome(service=Service(executable_path=chromedriver), options=opts)
    drv.set_page_load_timeout(page_timeout)
    drv.set_script_timeout(page_timeout)
    return drv


def check_page(drv, url, page, shots, wait_s):
    "Load one page and return the list of problems found (empty: the page passes)."
    from selenium.webdriver.support.ui import WebDriverWait
    problems = []
    drv.get(url)
    try: WebDriverWait(drv, wait_s).until(lambda d: d.execute_script("return document.body.getAttribute('data-math')"))
    except Exception: problems.append('page script did not finish (body[data-math] never set)')
    if drv.execute_script("return document.body.getAttribute('data-math')") != 'katex':
        problems.append('KaTeX did not load')
    errors = [e['message'] for e in drv.get_log('browser') if e['level'] == 'SEVERE']
    problems += [f'console error: {m[:200]}' for m in errors]
    imgs = drv.execute_script(JS_IMAGES)
    bad = [i for i in imgs if not (i[0] and i[1] > 0 and i[2] > 0)]
    if bad: problems.append(f'{len(bad)} image(s) not displayed: {bad[:2]}')
    if page['figures'] and len(imgs) < page['figures']:
        problems.append(f"{page['figures']} figure(s) in the notebook, {len(imgs)} image(s) on the page")
    n_katex = drv.execute_script("return document.querySelectorAll('article .katex').length")
    n_err = drv.execute_script("return document.querySelectorAll('article .katex-error').length")
    if page['math'] and n_katex == 0: problems.append(f"{page['math']} math expression(s) in the notebook, none typeset")
    if n_err: problems.append(f'{n_err} KaTeX error(s)')
    raw = drv.execute_script(JS_RAW_MATH)
    if raw: problems.append(f'raw TeX left in the page: {raw}')
    name = page['out'].replace('/', '__').removesuffix('.html')
    drv.save_screenshot(str(shots / f'{name}.png'))
    if drv.execute_script("return !!document.querySelector('.jp-OutputArea-output table')"):  # a show_doc table
        drv.execute_script("document.querySelector('.jp-OutputArea-output table').scrollIntoView({block: 'center'})")
        time.sleep(0.2)
        drv.save_screenshot(str(shots / f'{name}-api.png'))
    if imgs:
        drv.execute_script("document.querySelector('article img').scrollIntoView({block: 'center'})")
        time.sleep(0.2)
        drv.save_screenshot(str(shots / f'{name}-figure.png'))
    return problems, dict(images=len(imgs), katex=n_katex)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--site', type=Path, default=ROOT / '_docs')
    p.add_argument('--shots', type=Path, default=ROOT / 'screenshots')
    p.add_argument('--chromium', default=shutil.which('chromium') or '/usr/bin/chromium')
    p.add_argument('--chromedriver', default=shutil.which('chromedriver') or '/usr/bin/chromedriver')
    p.add_argument('--timeout', type=float, default=240, help='overall time limit in seconds')
    a = p.parse_args()
    manifest = a.site / 'pages.json'
    if not manifest.exists(): sys.exit(f'docs_test: {manifest} is missing: run scripts/build_docs.py first')
    pages = json.loads(manifest.read_text())
    for exe in (a.chromium, a.chromedriver):
        if not Path(exe).exists(): sys.exit(f'docs_test: {exe} not found: run `bash scripts/setup.sh --browser`')
    a.shots.mkdir(parents=True, exist_ok=True)
    for f in a.shots.glob('*.png'): f.unlink()
    html_files = {f.relative_to(a.site).as_posix() for f in a.site.rglob('*.html') if 'static' not in f.parts}
    failures, t0 = {}, time.time()
    if html_files != {pg['out'] for pg in pages}:
        failures['site'] = [f'pages.json and the HTML files differ: {sorted(html_files ^ {pg["out"] for pg in pages})}']
    broken = broken_links(a.site, html_files)
    if broken: failures.setdefault('site', []).append(f'{len(broken)} broken internal link(s): {broken[:5]}')
    httpd, base = serve(a.site)
    profile = tempfile.mkdtemp(prefix='graphreg-chromium-')
    drv = None
    try:
        drv = make_driver(profile, a.chromium, a.chromedriver, page_timeout=30)
        for pg in pages:
            if time.time() - t0 > a.timeout:
                failures[pg['out']] = [f'not checked: the {a.timeout:.0f}s time limit ran out']; continue
            url = urljoin(base, pg['out'])
            try: problems, info = check_page(drv, url, pg, a.shots, wait_s=20)
            except Exception as e: problems, info = [f'{type(e).__name__}: {str(e)[:300]}'], {}
            links = {urldefrag(h)[0] for h in drv.execute_script(JS_LINKS) or [] if h.startswith(base)}
            missing = sorted(q['out'] for q in pages if urljoin(base, q['out']) not in links)
            if missing: problems.append(f'no link to: {missing}')
            if problems: failures[pg['out']] = problems
            print(f"  {'FAIL' if problems else 'ok  '} {pg['out']:<40} figures {info.get('images', '?'):>3}  "
                  f"math {info.get('katex', '?'):>4}", flush=True)
    finally:
        if drv is not None: drv.quit()
        httpd.shutdown(); httpd.server_close()
        shutil.rmtree(profile, ignore_errors=True)
    for page, probs in failures.items():
        for pr in probs: print(f'FAIL {page}: {pr}', file=sys.stderr)
    n_bad = len([p for p in pages if p['out'] in failures])
    print(f'docs browser test ({time.time()-t0:.0f}s, {len(pages)} pages, screenshots in {a.shots}/):')
    print(f"{len(pages) - n_bad} passed, {n_bad + ('site' in failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == '__main__': main()
