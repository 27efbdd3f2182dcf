"""WAV, raw PCM and MP3 audio (numpy, PyAV/LAME): a seeded chord sequence."""

from __future__ import annotations

import io
import wave

import av
import numpy as np

from mockserver.core.media import seeded
from mockserver.core.media import size as media_size
from mockserver.core.media.formats import mp3_sample_rate
from mockserver.core.media.spec import MediaSpec

_PROGRESSIONS = ((0, 7, 9, 5), (0, 9, 5, 7), (9, 5, 0, 7), (0, 5, 7, 5), (0, 4, 5, 7))
# Semitones of the third above each scale degree used (major on I, IV, V; minor on iii, vi).
_THIRDS = {0: 4, 4: 3, 5: 4, 7: 4, 9: 3}


def _samples(spec: MediaSpec, sample_rate: int) -> np.ndarray:
    """A seeded chord sequence as int16 mono samples at ``sample_rate``."""
    rng = seeded.rng(spec.seed, "audio")
    root = 48 + int(rng.integers(0, 12))
    progression = _PROGRESSIONS[int(rng.integers(0, len(_PROGRESSIONS)))]
    chord_len = float(rng.uniform(0.9, 1.6))
    # Notes per chord: bass an octave down, then a triad (major or minor) on the degree.
    midi = []
    for degree in progression:
        base = root + degree
        midi.append([base - 12, base, base + _THIRDS[degree], base + 7])
    freqs = (440.0 * 2.0 ** ((np.array(midi, dtype=np.float32) - 69.0) / 12.0)).astype(np.float32)
    gains = np.array([0.35, 0.3, 0.22, 0.22], dtype=np.float32)

    n = media_size.audio_samples(spec, sample_rate)
    t = np.arange(n, dtype=np.float64) / sample_rate
    segment = (t // chord_len).astype(np.int64)
    local = (t - segment * chord_len).astype(np.float32)
    chord = freqs[segment % len(progression)]  # (n, 4)
    signal = np.zeros(n, dtype=np.float32)
    for k in range(freqs.shape[1]):
        phase = (2.0 * np.pi) * chord[:, k] * local
        signal += gains[k] * (np.sin(phase) + 0.25 * np.sin(2.0 * phase))
    attack, release = 0.02, 0.08
    envelope = np.minimum(local / attack, 1.0) * np.clip((chord_len - local) / release, 0.0, 1.0) * np.exp(-1.2 * local)
    end_fade = np.clip((spec.seconds - t) / 0.05, 0.0, 1.0).astype(np.float32)
    signal *= envelope * end_fade
    peak = max(float(np.abs(signal).max()), 1e-6)
    return np.round(signal * (0.6 * 32767.0 / peak)).astype("<i2")


def render_audio(spec: MediaSpec) -> bytes:
    if spec.format == "pcm":
        return _samples(spec, spec.sample_rate).tobytes()
    if spec.format == "wav":
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(spec.sample_rate)
            wav.writeframes(_samples(spec, spec.sample_rate).tobytes())
        return out.getvalue()
    return _encode_mp3(spec)


def _encode_mp3(spec: MediaSpec) -> bytes:
    rate = mp3_sample_rate(spec.sample_rate)
    samples = _samples(spec, rate)
    out = io.BytesIO()
    with av.open(out, "w", format="mp3", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        stream.codec_context.bit_rate = spec.bitrate
        stream.codec_context.options = {"flags": "+bitexact"}
        chunk = 1152 * 64
        for start in range(0, len(samples), chunk):
            frame = av.AudioFrame.from_ndarray(samples[None, start : start + chunk], format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()
