"""What a person standing before a screen would see wrong, measured in the page: content that overflows its box,
text cut by the canvas, type smaller than the profile's minimum on the target display, and areas left half empty."""

from __future__ import annotations

# Run in the page with {minFont, fill, areas}. Every visible element on the design canvas is checked, except the
# map's own drawing (Leaflet positions its panes and labels itself) and the ticker, which scrolls on purpose.
# - content larger than its box (scroll size beyond client size), unless the element shortens its text visibly
#   (text-overflow: ellipsis, or a line clamp: "…" is drawn);
# - text whose glyphs lie outside the canvas, or outside an ancestor that hides what overflows it;
# - own text smaller than minFont device pixels: computed size × the zoom the canvas is drawn at × device pixels
#   per CSS pixel;
# - areas (CSS selectors: county panels, board slides, stop sections) whose content, their title and 数据截至 left
#   aside, ends above ``fill`` of their height.
CHECK = """
({minFont, fill, areas}) => {
  const canvas = document.getElementById('screen-canvas');
  if (!canvas) { return {problems: ['no #screen-canvas on the page'], smallest: null, fills: {}}; }
  const within = (inner, outer, slack) => inner.left >= outer.left - slack && inner.right <= outer.right + slack
    && inner.top >= outer.top - slack && inner.bottom <= outer.bottom + slack;
  const name = e => (e.id ? '#' + e.id : e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
    ? '.' + e.className.trim().split(/\\s+/).join('.') : '')) + ' "' + (e.textContent || '').trim().slice(0, 24) + '"';
  const free = e => e.closest('.leaflet-container, .ticker');
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'
    && !e.closest('[hidden]');
  const canvasBox = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio;
  const problems = [];
  let smallest = null;
  for (const e of canvas.querySelectorAll('*')) {
    if (free(e) || !shown(e)) { continue; }
    const style = getComputedStyle(e);
    const zoom = e.currentCSSZoom || 1;
    // A box's own content larger than the box (1 CSS pixel of rounding allowed), unless it shortens visibly.
    if (style.display !== 'inline' && e.clientWidth > 0) {
      const ellipsis = style.textOverflow === 'ellipsis' && style.overflowX !== 'visible';
      const clamped = style.webkitLineClamp && style.webkitLineClamp !== 'none';
      if (!ellipsis && e.scrollWidth > e.clientWidth + 1) {
        problems.push(`overflows its width by ${e.scrollWidth - e.clientWidth}px: ${name(e)}`);
      }
      if (!clamped && e.scrollHeight > e.clientHeight + 1) {
        problems.push(`overflows its height by ${e.scrollHeight - e.clientHeight}px: ${name(e)}`);
      }
    }
    const texts = [...e.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim());
    if (!texts.length) { continue; }
    const size = parseFloat(style.fontSize) * zoom * dpr;
    if (smallest === null || size < smallest[0]) { smallest = [size, name(e)]; }
    if (size < minFont - 0.01) { problems.push(`text of ${size.toFixed(1)} device px: ${name(e)}`); }
    // Text an element shortens visibly (… at the end) shows within that element: its box is what is seen.
    let shortener = null;
    for (let up = e; up && up !== canvas; up = up.parentElement) {
      const s = getComputedStyle(up);
      if ((s.textOverflow === 'ellipsis' && s.overflowX !== 'visible') || (s.webkitLineClamp
        && s.webkitLineClamp !== 'none')) { shortener = up; break; }
    }
    for (const text of texts) {
      const range = document.createRange();
      range.selectNodeContents(text);
      const box = shortener ? shortener.getBoundingClientRect() : range.getBoundingClientRect();
      if (!within(box, canvasBox, 1)) { problems.push(`text cut by the canvas: ${name(e)}`); continue; }
      for (let up = (shortener || e).parentElement; up && up !== canvas; up = up.parentElement) {
        if (getComputedStyle(up).overflow !== 'visible' && !within(box, up.getBoundingClientRect(), 1)) {
          problems.push(`text cut by ${name(up)}: ${name(e)}`);
          break;
        }
      }
    }
  }
  // What shows in an area: text, images, and boxes drawn with a background or a border (a grown block that
  // draws nothing is no content).
  const drawn = e => {
    if ([...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) || e.tagName === 'IMG') { return true; }
    const s = getComputedStyle(e);
    const paint = c => c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c);
    return paint(s.backgroundColor) || s.backgroundImage !== 'none'
      || (parseFloat(s.borderBottomWidth) > 0 && s.borderBottomStyle !== 'none' && paint(s.borderBottomColor));
  };
  const fills = {};
  for (const selector of areas) {
    for (const area of canvas.querySelectorAll(selector)) {
      if (!shown(area)) { continue; }
      const box = area.getBoundingClientRect();
      let bottom = box.top;
      for (const e of area.querySelectorAll('*')) {
        const aside = e.closest('.panel-asof, .stop-asof, .slide-head, h2, .leaflet-container');
        if (!shown(e) || !drawn(e) || aside) { continue; }
        const r = e.getBoundingClientRect();
        if (r.height > 0) { bottom = Math.max(bottom, r.bottom); }
      }
      const share = (bottom - box.top) / box.height;
      fills[name(area)] = Math.round(share * 1000) / 1000;
      if (share < fill) { problems.push(`only ${(100 * share).toFixed(0)}% of its height filled: ${name(area)}`); }
    }
  }
  return {problems, smallest, fills};
}
"""

# The areas that must look full, per kind of screen.
AREAS = {
    "county": [".panel:not(.panel-map)"],
    "board": [".slide.active"],
    "stop": [".stop-buses", ".stop-weather", ".stop-publicity"],
}
FILL = 0.85


def check(page, profile, fill: float = FILL) -> dict:
    """{"problems": [...], "smallest": [device px, element], "fills": {area: share}} of what the page shows now."""
    return page.evaluate(CHECK, {"minFont": profile.min_font_px, "fill": fill, "areas": AREAS[profile.kind]})
