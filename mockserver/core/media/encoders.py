"""The encoders behind :func:`mockserver.core.media.render`, one module per kind: :mod:`.image` (PNG/JPEG/WebP
via Pillow), :mod:`.audio` (WAV/PCM/MP3 via numpy and PyAV), :mod:`.video` (H.264 MP4 via PyAV, with
:mod:`.mp4` box rewriting) and :mod:`.glb` (glTF binary by hand).

Imported on the first render only (:func:`mockserver.core.media.rendering.encode`), so the heavy libraries never
load when the server starts.
"""

from __future__ import annotations

from mockserver.core.media.audio import render_audio
from mockserver.core.media.glb import render_glb
from mockserver.core.media.image import render_image
from mockserver.core.media.spec import MediaSpec
from mockserver.core.media.video import render_video


def encode(spec: MediaSpec, effort: int = 0) -> bytes:
    """The unpadded encoding of ``spec``; a higher ``effort`` trades quality for a smaller file."""
    kind = spec.kind
    if kind == "image":
        return render_image(spec, effort)
    if kind == "audio":
        return render_audio(spec)
    if kind == "video":
        return render_video(spec, effort)
    return render_glb(spec)
