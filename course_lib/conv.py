"""Convolutional networks (chapter 05): the output-size rule and plots of filters and feature maps.

- :func:`conv_output_size` -- the length of a convolution's or pooling's output along one axis,
  for ``'valid'``, ``'same'`` or an explicit padding, a stride and a dilation (the reference
  used by chapter 05's checker and by later chapters);
- :func:`plot_filtered` -- an image beside the responses of filters applied to it;
- :func:`plot_kernels` -- the kernels of a convolution layer, side by side and numbered;
- :func:`plot_feature_maps` -- the channels of a feature map, one small image per channel.

The convolution and pooling themselves are written from scratch in the chapter's notebook, where
students read them; this module only holds what is reused or would clutter a cell.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from course_lib._validate import check_arguments
from course_lib.plots import finish_figure

__all__ = [
    "conv_output_size", "plot_filtered", "plot_kernels", "plot_feature_maps",
]

_PADDINGS = ("valid", "same")


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"expected {name} to be an int >= {minimum}, got {value!r}")
    return int(value)


def conv_output_size(n: int, k: int, padding: str | int = "valid", stride: int = 1, dilation: int = 1) -> int:
    """Output length along one axis of a convolution (or pooling) window sliding over ``n`` inputs.

    With an explicit padding of ``p`` zeros on each side the output has
    ``floor((n + 2p - d(k - 1) - 1) / s) + 1`` positions: a dilated kernel spans
    ``d(k - 1) + 1`` inputs, and it fits at every ``s``-th start position. ``'valid'`` is ``p = 0``;
    ``'same'`` pads as Keras/TensorFlow do, just enough for ``ceil(n / s)`` outputs.

    Args:
        n: input length (>= 1).
        k: kernel (or pooling window) length (>= 1).
        padding: ``'valid'``, ``'same'`` or a number of zeros added on *each* side (int >= 0).
        stride: step between window positions (>= 1).
        dilation: spacing between kernel taps (>= 1); 1 is an ordinary kernel.

    Returns:
        The number of output positions, an int (0 never occurs: a window that does not fit raises).

    Raises:
        ValueError: for a bad argument, or when the (dilated) kernel is longer than the padded input.
    """
    check_arguments(conv_output_size, locals(), n="own", k="own", padding="own", stride="own", dilation="own")
    n = _positive_int("n", n)
    k = _positive_int("k", k)
    s = _positive_int("stride", stride)
    d = _positive_int("dilation", dilation)
    if isinstance(padding, str):
        if padding not in _PADDINGS:
            raise ValueError(f"expected padding 'valid', 'same' or an int >= 0, got {padding!r}")
        if padding == "same":
            return -(-n // s)
        p = 0
    else:
        p = _positive_int("padding", padding, minimum=0)
    span = d * (k - 1) + 1
    if span > n + 2 * p:
        raise ValueError(
            f"a kernel spanning {span} inputs (k={k}, dilation={d}) does not fit in {n} inputs "
            f"padded with {p} zeros on each side"
        )
    return (n + 2 * p - span) // s + 1


# --- plots --------------------------------------------------------------------------------------


def _grid(n: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return -(-n // ncols), ncols


def plot_filtered(
    image: Any,
    responses: Mapping[str, Any],
    title: str | None = None,
    ncols: int = 3,
    size: float = 3.2,
    show: bool = True,
) -> Any:
    """An image and the responses of filters applied to it, one panel each, with a colour bar.

    Responses can have any sign and range: each panel is scaled to its own values
    (signed responses, like edge detectors, on a diverging colour map centred on 0).

    Args:
        image: the input, (h, w) grey or (h, w, 3) colour.
        responses: ``{name: (h', w') array}``, e.g. ``{"Sobel x": gx, "blur": blurred}``.
        title: a title above the figure.
        ncols: panels per row.
        size: width of one panel in inches.

    Raises:
        ValueError: if the image or a response does not have an image's shape, or there are none.
    """
    check_arguments(plot_filtered, locals(), image="array", ncols="own")
    import matplotlib.pyplot as plt

    image = np.asarray(image)
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 3)):
        raise ValueError(f"expected an image of shape (h, w) or (h, w, 3), got {image.shape}")
    if not isinstance(responses, Mapping) or not responses:
        raise ValueError("expected a non-empty dict {name: 2-D response}")
    panels = [("input", image)]
    for name, r in responses.items():
        r = np.asarray(r, dtype=float)
        if r.ndim != 2:
            raise ValueError(f"expected response {name!r} to be 2-D (h, w), got shape {r.shape}")
        panels.append((str(name), r))
    nrows, ncols = _grid(len(panels), _positive_int("ncols", ncols))
    aspect = image.shape[0] / image.shape[1]
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, (size * aspect + 0.35) * nrows), squeeze=False, layout="constrained"
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, (name, panel) in zip(axes.flat, panels):
        if name == "input":
            ax.imshow(panel, cmap="gray" if panel.ndim == 2 else None)
        else:
            signed = panel.min() < 0
            if signed:
                lim = float(np.abs(panel).max()) or 1.0
                im = ax.imshow(panel, cmap="RdBu_r", vmin=-lim, vmax=lim)
            else:
                im = ax.imshow(panel, cmap="gray")
            fig.colorbar(im, ax=ax, fraction=0.035, pad=0.02)
        ax.set_title(f"{name} {panel.shape[0]}×{panel.shape[1]}", fontsize=9)
    if title:
        fig.suptitle(title)
    return finish_figure(fig, show, tight=False)  # constrained layout makes room for colour bars


def plot_kernels(
    kernels: Any, title: str | None = None, ncols: int = 8, size: float = 1.0, show: bool = True
) -> Any:
    """The 2-D kernels of a convolution layer with one input channel, side by side in one image.

    Kernels are laid out ``ncols`` per row, separated by a blank line of pixels and numbered; they
    share one diverging colour scale centred on 0 (red positive, blue negative). One image instead
    of one panel per kernel keeps even 64 kernels quick to draw.

    Args:
        kernels: a Conv2D kernel of shape (kh, kw, 1, filters) or an array (kh, kw, filters).
        size: width in inches of one kernel's cell.

    Raises:
        ValueError: for another shape (a layer with several input channels has no single image
            per filter: pass ``kernel[:, :, c, :]`` to see input channel ``c``).
    """
    check_arguments(plot_kernels, locals(), kernels="array", ncols="own", show="own")
    import matplotlib.pyplot as plt

    k = np.asarray(kernels, dtype=float)
    if k.ndim == 4:
        if k.shape[2] != 1:
            raise ValueError(
                f"expected kernels with 1 input channel, got shape {k.shape}; "
                "pass kernel[:, :, c, :] to show input channel c"
            )
        k = k[:, :, 0, :]
    if k.ndim != 3:
        raise ValueError(f"expected kernels of shape (kh, kw, 1, filters) or (kh, kw, filters), got {k.shape}")
    kh, kw, n = k.shape
    nrows, ncols = _grid(n, _positive_int("ncols", ncols))
    mosaic = np.full((nrows * (kh + 1) - 1, ncols * (kw + 1) - 1), np.nan)
    for i in range(n):
        r, c = divmod(i, ncols)
        mosaic[r * (kh + 1): r * (kh + 1) + kh, c * (kw + 1): c * (kw + 1) + kw] = k[:, :, i]
    lim = float(np.nanmax(np.abs(mosaic))) or 1.0
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="white")       # the gaps between kernels
    fig, ax = plt.subplots(figsize=(size * ncols + 1.0, size * nrows * kh / kw + 0.5), layout="constrained")
    im = ax.imshow(mosaic, cmap=cmap, vmin=-lim, vmax=lim)
    for i in range(n):
        r, c = divmod(i, ncols)
        ax.text(c * (kw + 1) - 0.45, r * (kh + 1) - 0.55, str(i), fontsize=7, va="bottom", ha="left")
    ax.set_ylim(mosaic.shape[0] - 0.5, -1.3)
    ax.axis("off")
    fig.colorbar(im, ax=ax, shrink=0.8, label="weight")
    if title:
        ax.set_title(title)
    return finish_figure(fig, show, tight=False)  # constrained layout makes room for colour bars


def plot_feature_maps(
    maps: Any,
    image: Any | None = None,
    title: str | None = None,
    ncols: int = 8,
    size: float = 1.1,
    labels: Sequence[str] | None = None,
    show: bool = True,
) -> Any:
    """The channels of one feature map (h, w, channels), optionally after the input image.

    Each channel gets its own colour scale (``viridis``: dark = 0, bright = the channel's maximum),
    so weak channels stay visible.

    Args:
        maps: one example's activations, shape (h, w, channels) (or (1, h, w, channels)).
        image: the input the maps were computed from, drawn first, (h, w) or (h, w, 1).
        labels: a title per channel (default ``ch 0``, ``ch 1`` ...).

    Raises:
        ValueError: if ``maps`` is not (h, w, channels), or ``labels`` has the wrong length.
    """
    check_arguments(plot_feature_maps, locals(), maps="array", image="array", ncols="own", labels="own")
    import matplotlib.pyplot as plt

    m = np.asarray(maps, dtype=float)
    if m.ndim == 4 and m.shape[0] == 1:
        m = m[0]
    if m.ndim != 3:
        raise ValueError(f"expected feature maps of shape (h, w, channels), got {np.shape(maps)}")
    c = m.shape[-1]
    if labels is not None and len(labels) != c:
        raise ValueError(f"expected {c} labels, got {len(labels)}")
    panels: list[tuple[str, np.ndarray, str]] = []
    if image is not None:
        img = np.asarray(image, dtype=float)
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        if img.ndim != 2:
            raise ValueError(f"expected the input image as (h, w) or (h, w, 1), got {np.shape(image)}")
        panels.append(("input", img, "gray_r"))
    for i in range(c):
        panels.append((labels[i] if labels is not None else f"ch {i}", m[:, :, i], "viridis"))
    nrows, ncols = _grid(len(panels), _positive_int("ncols", ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, (size + 0.2) * nrows), squeeze=False, layout="constrained"
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, (name, panel, cmap) in zip(axes.flat, panels):
        top = float(panel.max())
        ax.imshow(panel, cmap=cmap, vmin=min(0.0, float(panel.min())), vmax=top if top > 0 else 1.0)
        ax.set_title(name, fontsize=8)
    if title:
        fig.suptitle(title)
    return finish_figure(fig, show, tight=False)  # constrained layout makes room for colour bars
