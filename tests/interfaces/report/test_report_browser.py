"""The HTML report of the demo company in headless Chromium (the Debian package through Playwright),
both languages: the path diagram's coefficients sit off every arrow, every chart has an axis
title (the path diagram has no axes), no tick label of a chart overlaps the next, p-values never
print as 0, and the voice and perception charts title their axes with more than the chart's title."""
from __future__ import annotations

import os
import re

import pytest

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.slow]

# every edge of the path diagram sampled along its length: is a point inside a label's box?
_OVERLAPS = """
() => {
  const out = [];
  document.querySelectorAll('svg.diagram').forEach(svg => {
    const labels = [...svg.querySelectorAll('text.edge-label')].map(t => ({t: t.textContent, b: t.getBBox()}));
    svg.querySelectorAll('path.edge').forEach((e, k) => {
      const len = e.getTotalLength();
      for (let s = 0; s <= len; s += 2) {
        const p = e.getPointAtLength(s);
        for (const l of labels) {
          const b = l.b;
          if (p.x > b.x + 1 && p.x < b.x + b.width - 1 && p.y > b.y + 1 && p.y < b.y + b.height - 1) {
            out.push(`edge ${k} crosses label ${l.t}`); return;
          }
        }
      }
    });
  });
  return out;
}
"""

_CHARTS = """
() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const block = svg.closest('.block');
  const titles = [...svg.querySelectorAll('.axis-title')].map(t => t.textContent.trim());
  const ticks = [...svg.querySelectorAll('text.x-tick')].map(t => t.getBBox());
  let collide = 0;
  for (let i = 1; i < ticks.length; i++) if (ticks[i].x < ticks[i - 1].x + ticks[i - 1].width) collide++;
  return {id: block ? block.id : '?', diagram: svg.classList.contains('diagram'), titles, collide,
          heading: (block && block.querySelector('h3, h4')) ? block.querySelector('h3, h4').textContent.trim() : ''};
})
"""


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs the Debian package chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_charts_read_cleanly(demo_run, browser, lang):
    path = demo_run["report"] if lang == "en" else demo_run["report"].with_suffix(".zh.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri())
    assert page.evaluate(_OVERLAPS) == []
    charts = page.evaluate(_CHARTS)
    assert len(charts) > 20 and any(c["diagram"] for c in charts)
    untitled = [c["id"] for c in charts if not c["diagram"] and not c["titles"]]
    assert untitled == []
    collisions = [c["id"] for c in charts if c["collide"]]
    assert collisions == []
    own = {c["id"]: c for c in charts}
    for block in ("nps-trend", "nps-by-touchpoint", "drivers-importance", "csi-segments", "kano-coefficients"):
        assert any(t != own[block]["heading"] for t in own[block]["titles"]), (block, own[block])
    text = page.inner_text("body")
    assert not re.search(r"\bp[- ]?(value|值)?\s*[=:]?\s*0\.0+\b(?!\d)", text)     # "p = 0.000"
    page.close()
