"""A dashboard's figure as a PNG, drawn fast enough to redraw as a slider is released.

:func:`png_bytes` draws a :class:`~matplotlib.figure.Figure` with Agg and encodes it as a PNG.
Three things make a redraw cheaper than a plain ``savefig``, each measured on lesson 1's
dashboard (1,000 x 711 px, about 40 texts) on a 2-core machine:

* the renderer is shared by every figure of the same size and resolution, so matplotlib's cache
  of text extents (held per renderer) is kept between redraws;
* that renderer keeps each text's rasterised image (:class:`_TextCachingRenderer`): a tick label
  or a legend entry is rendered once, then copied. Matplotlib 3.11 lays out and renders text
  glyph by glyph at every draw, about half of a draw: 143 ms a draw without the cache, 70 ms
  with it;
* Pillow compresses the PNG at :data:`PNG_COMPRESS_LEVEL` (zlib level 1).

:data:`REDRAW_RC` holds the matplotlib settings a dashboard's pure function draws with.
"""

from __future__ import annotations

import functools
import io
import math
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont

from simlab.core import validate

__all__ = ["png_bytes", "REDRAW_RC", "PNG_COMPRESS_LEVEL", "FIGURE_WIDTH_PX"]

#: Width of a dashboard's figure as a PNG (px): JupyterLab's output area is about 1,008 px wide
#: at a 1,280 px window; a narrower one scales the image down.
FIGURE_WIDTH_PX = 1000

#: Matplotlib settings a dashboard's figure is drawn with: each title at the top of its axes.
#: By default matplotlib measures every tick label of an axes (about a fifth of a redraw) to lift
#: the title above anything drawn over the top edge, which no dashboard has.
REDRAW_RC: dict[str, Any] = {"axes.titley": 1.0}
#: zlib level of a dashboard's PNG: Pillow encodes lesson 1's figure in 20 ms at level 1 against
#: 32 ms at the default 6, for a file about as large (69 KB against 62 KB: flat colours compress
#: well).
PNG_COMPRESS_LEVEL = 1

#: Most text images a renderer keeps; past it the cache starts afresh (a dashboard draws about
#: 40 texts, most of them the same from one redraw to the next).
_TEXT_CACHE_SIZE = 2048


class _TextCachingRenderer(RendererAgg):
    """An Agg renderer that keeps the image of every plain text it draws, by string, font,
    size, angle, antialiasing and hinting, and copies it at the next draw of the same text.

    The image is made and placed as matplotlib up to 3.10 drew text: the whole string rendered
    into one bitmap and drawn at the nearest whole pixel (matplotlib 3.11 renders each glyph at
    its sub-pixel position, at every draw). Measured on lesson 1's dashboard: 143 ms a draw
    without the cache, 70 ms with it; the text looks the same. Mathtext, and texts with
    OpenType features or a language set, are drawn by matplotlib as usual.
    """

    def __init__(self, width: int, height: int, dpi: float) -> None:
        super().__init__(width, height, dpi)
        self._text_images: dict[tuple[Any, ...], tuple[np.ndarray, float, float, float]] = {}

    def draw_text(self, gc: Any, x: float, y: float, s: str, prop: FontProperties,
                  angle: float, ismath: bool | str = False, mtext: Any = None) -> None:
        """Draw ``s`` at ``(x, y)`` (pixels, y downwards) from its cached image."""
        if ismath or (mtext is not None and (
                getattr(mtext, "get_fontfeatures", lambda: None)()
                or getattr(mtext, "get_language", lambda: None)())):
            super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            return
        antialiased = bool(gc.get_antialiased())
        flags = get_hinting_flag()
        key = (s, hash(prop), findfont(prop), prop.get_size_in_points(), angle, antialiased,
               flags, matplotlib.rcParams["text.hinting_factor"])
        cached = self._text_images.get(key)
        if cached is None:
            font = self._prepare_font(prop)
            font.set_text(s, 0, flags=flags)  # angle 0: the image is rotated when drawn
            font.draw_glyphs_to_bitmap(antialiased=antialiased)
            xo, yo = font.get_bitmap_offset()
            cached = (np.array(font.get_image()), font.get_descent() / 64.0, xo / 64.0,
                      yo / 64.0)
            if len(self._text_images) >= _TEXT_CACHE_SIZE:
                self._text_images.clear()
            self._text_images[key] = cached
        image, descent, xo, yo = cached
        rad = math.radians(angle)  # the descent turns with the text
        self._renderer.draw_text_image(image, round(x + xo + descent * math.sin(rad)),
                                       round(y + yo + descent * math.cos(rad)) + 1, angle, gc)


@functools.lru_cache(maxsize=4)
def _agg_renderer(width: int, height: int, dpi: float) -> RendererAgg:
    return _TextCachingRenderer(width, height, dpi)


class _SharedRendererCanvas(FigureCanvasAgg):
    """An Agg canvas whose renderer is shared by every figure of the same size and resolution,
    so matplotlib's cache of text extents (held per renderer) and the renderer's text images
    are kept between redraws instead of every label being measured and rendered afresh. Each
    draw clears the renderer first."""

    def get_renderer(self) -> RendererAgg:
        w, h = self.get_width_height(physical=True)
        self.renderer = _agg_renderer(w, h, self.figure.dpi)
        return self.renderer


def png_bytes(fig: Figure, width_px: int = FIGURE_WIDTH_PX) -> bytes:
    """``fig`` as a PNG ``width_px`` wide (its resolution follows its width in inches).

    Drawn with Agg on a renderer shared by figures of the same size (its text extents and text
    images stay cached) and compressed by Pillow at :data:`PNG_COMPRESS_LEVEL`.
    """
    validate.integer("width_px", width_px, 50, 10_000)
    buf = io.BytesIO()
    _SharedRendererCanvas(fig)  # becomes the figure's canvas
    fig.savefig(buf, format="png", dpi=width_px / fig.get_figwidth(),
                pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return buf.getvalue()
