"""Tests for the mockserver.core.media package: every format decodes with its real library, deterministically."""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import struct
import wave

import av
import numpy as np
import pytest
from PIL import Image

from mockserver.core import media
from mockserver.core.media import MediaSpec, mp4, render, video


def _decode_video(data: bytes) -> tuple[list[np.ndarray], float, float]:
    """(frames as rgb arrays, stream duration in s, container duration in s)."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        stream_seconds = float(stream.duration * stream.time_base)
        container_seconds = container.duration / 1_000_000
    return frames, stream_seconds, container_seconds


# --------------------------------------------------------------------------- images


@pytest.mark.parametrize(("fmt", "pil_format"), [("png", "PNG"), ("jpg", "JPEG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
@pytest.mark.parametrize(("width", "height"), [(1024, 1024), (1344, 768), (77, 301)])
def test_images_open_with_exact_size_and_format(fmt: str, pil_format: str, width: int, height: int) -> None:
    data = render(MediaSpec(fmt, width=width, height=height, seed=3, label="a red fox in the snow"))
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == pil_format
        assert image.size == (width, height)
        image.load()
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.std() > 5  # a pattern, not a flat fill


def test_label_is_drawn_into_image() -> None:
    plain = np.asarray(Image.open(io.BytesIO(render(MediaSpec("png", seed=1)))))
    labelled = np.asarray(Image.open(io.BytesIO(render(MediaSpec("png", seed=1, label="hello")))))
    diff = np.any(plain != labelled, axis=2)
    assert diff.any()
    rows = np.nonzero(diff.any(axis=1))[0]
    assert rows.min() > plain.shape[0] // 2  # near the bottom


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
def test_quality_is_honoured(fmt: str) -> None:
    low = render(MediaSpec(fmt, quality=10, seed=2))
    high = render(MediaSpec(fmt, quality=95, seed=2))
    assert len(low) < len(high)


def test_very_long_label_still_renders() -> None:
    data = render(MediaSpec("png", width=64, height=64, label="word " * 2000))
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (64, 64)


# --------------------------------------------------------------------------- audio


@pytest.mark.parametrize(("seconds", "rate"), [(5.0, 44100), (1.25, 24000), (0.01, 8000)])
def test_wav_params(seconds: float, rate: int) -> None:
    data = render(MediaSpec("wav", seconds=seconds, sample_rate=rate, seed=4))
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getframerate() == rate
        assert wav.getnframes() == round(seconds * rate)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert np.abs(samples).max() > 1000


def test_pcm_is_raw_s16le_matching_wav() -> None:
    spec = dict(seconds=2.0, sample_rate=24000, seed=5)
    pcm = render(MediaSpec("pcm", **spec))
    assert len(pcm) == 2 * 2 * 24000
    with wave.open(io.BytesIO(render(MediaSpec("wav", **spec)))) as wav:
        assert wav.readframes(wav.getnframes()) == pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
    assert 5000 < np.abs(samples).max() < 32767
    assert samples.std() > 500
    # No hard clicks: neighbouring samples never jump by more than a fraction of full scale.
    assert np.abs(np.diff(samples)).max() < 8000


@pytest.mark.parametrize(
    ("seconds", "rate", "bitrate"), [(5.0, 44100, 128000), (3.0, 24000, 64000), (30.0, 44100, 192000)]
)
def test_mp3_decodes_with_duration(seconds: float, rate: int, bitrate: int) -> None:
    data = render(MediaSpec("mp3", seconds=seconds, sample_rate=rate, bitrate=bitrate, seed=6))
    with av.open(io.BytesIO(data)) as container:
        assert container.format.name == "mp3"
        stream = container.streams.audio[0]
        assert stream.codec_context.name.startswith("mp3")  # decoder: mp3 or mp3float
        assert stream.rate == rate
        assert stream.codec_context.bit_rate == bitrate
        decoded = sum(frame.samples for frame in container.decode(stream))
    assert decoded / rate == pytest.approx(seconds, abs=0.06)
    assert len(data) == pytest.approx(seconds * bitrate / 8, rel=0.15)


def test_mp3_snaps_unsupported_sample_rate() -> None:
    assert media.mp3_sample_rate(44000) == 44100
    assert media.mp3_sample_rate(96000) == 48000
    data = render(MediaSpec("mp3", seconds=1.0, sample_rate=23000))
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.audio[0].rate == 22050


# --------------------------------------------------------------------------- video


@pytest.mark.parametrize(
    ("width", "height", "seconds", "fps", "expected_size"),
    [
        (1024, 1024, 5.0, 8, (640, 640)),
        (1920, 1080, 2.0, 24, (640, 360)),
        (720, 1280, 1.5, 10, (360, 640)),
        (320, 240, 3.0, 8, (320, 240)),
        (321, 179, 1.0, 8, (320, 180)),
    ],
)
def test_mp4_decodes_with_frames_duration_and_size(
    width: int, height: int, seconds: float, fps: int, expected_size: tuple[int, int]
) -> None:
    assert media.video_dimensions(width, height) == expected_size
    data = render(MediaSpec("mp4", width=width, height=height, seconds=seconds, fps=fps, seed=8, label="x"))
    assert data[4:8] == b"ftyp"
    frames, stream_seconds, container_seconds = _decode_video(data)
    assert abs(len(frames) - seconds * fps) <= 1
    assert stream_seconds == pytest.approx(seconds, abs=1.5 / fps)
    assert container_seconds == pytest.approx(seconds, abs=1.5 / fps)
    assert frames[0].shape == (expected_size[1], expected_size[0], 3)
    assert not np.array_equal(frames[0], frames[-1])  # it moves
    with av.open(io.BytesIO(data)) as container:
        codec = container.streams.video[0].codec_context
        assert codec.name == "h264"
        assert codec.pix_fmt == "yuv420p"


def test_mp4_moov_before_mdat() -> None:
    data = render(MediaSpec("mp4", seconds=1.0, seed=9))
    kinds = [kind for kind, *_ in mp4.boxes_in(data, 0, len(data))]
    assert kinds.index(b"moov") < kinds.index(b"mdat")


def test_faststart_keeps_frames_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = MediaSpec("mp4", width=320, height=240, seconds=2.0, fps=12, seed=10)
    monkeypatch.setattr(mp4, "faststart", lambda data: data)
    plain = video.render_video(spec)
    monkeypatch.undo()
    moved = mp4.faststart(plain)
    assert moved != plain and len(moved) == len(plain)
    frames_plain, *_ = _decode_video(plain)
    frames_moved, *_ = _decode_video(moved)
    assert len(frames_plain) == len(frames_moved) == 24
    assert all(np.array_equal(a, b) for a, b in zip(frames_plain, frames_moved, strict=True))


# --------------------------------------------------------------------------- 3D


def _parse_glb(data: bytes) -> tuple[dict, bytes]:
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_len, json_type = struct.unpack_from("<I4s", data, 12)
    assert json_type == b"JSON" and json_len % 4 == 0
    doc = json.loads(data[20 : 20 + json_len])
    bin_len, bin_type = struct.unpack_from("<I4s", data, 20 + json_len)
    assert bin_type == b"BIN\0" and bin_len % 4 == 0
    assert 28 + json_len + bin_len == len(data)
    return doc, data[28 + json_len :]


def test_glb_structure() -> None:
    doc, binary = _parse_glb(render(MediaSpec("glb", seed=11, label="a teapot")))
    assert doc["asset"]["version"] == "2.0"
    assert doc["buffers"][0]["byteLength"] == len(binary)
    (mesh,) = doc["meshes"]
    (material,) = doc["materials"]
    colour = material["pbrMetallicRoughness"]["baseColorFactor"]
    assert len(colour) == 4 and all(0 <= c <= 1 for c in colour)
    primitive = mesh["primitives"][0]
    assert primitive["material"] == 0
    for view in doc["bufferViews"]:
        assert view["byteOffset"] + view["byteLength"] <= len(binary)
    position = doc["accessors"][primitive["attributes"]["POSITION"]]
    view = doc["bufferViews"][position["bufferView"]]
    points = np.frombuffer(binary, "<f4", position["count"] * 3, view["byteOffset"]).reshape(-1, 3)
    assert points.min(axis=0).tolist() == position["min"]
    assert points.max(axis=0).tolist() == position["max"]
    normals_acc = doc["accessors"][primitive["attributes"]["NORMAL"]]
    normals_view = doc["bufferViews"][normals_acc["bufferView"]]
    normals = np.frombuffer(binary, "<f4", normals_acc["count"] * 3, normals_view["byteOffset"])
    assert np.allclose(np.linalg.norm(normals.reshape(-1, 3), axis=1), 1.0)
    idx_acc = doc["accessors"][primitive["indices"]]
    idx_view = doc["bufferViews"][idx_acc["bufferView"]]
    indices = np.frombuffer(binary, "<u2", idx_acc["count"], idx_view["byteOffset"])
    assert idx_acc["count"] == 36 and indices.max() < position["count"]


def test_glb_colour_depends_on_seed() -> None:
    colours = {
        tuple(
            _parse_glb(render(MediaSpec("glb", seed=s)))[0]["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"]
        )
        for s in range(5)
    }
    assert len(colours) == 5


# --------------------------------------------------------------------------- determinism


ALL_FORMATS = ["png", "jpg", "webp", "mp3", "wav", "pcm", "mp4", "glb"]


def _small(fmt: str, seed: int) -> MediaSpec:
    return MediaSpec(fmt, width=256, height=192, seconds=1.0, seed=seed, label="same prompt")


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_same_spec_same_bytes_even_uncached(fmt: str) -> None:
    first = render(_small(fmt, 12))
    media.clear_cache()
    assert render(_small(fmt, 12)) == first


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_different_seed_different_bytes(fmt: str) -> None:
    assert render(_small(fmt, 12)) != render(_small(fmt, 13))


def test_cache_returns_same_object() -> None:
    spec = MediaSpec("png", width=300, height=200, seed=99)
    assert render(spec) is render(MediaSpec("PNG", width=300, height=200, seed=99))


# --------------------------------------------------------------------------- spec & helpers


def test_spec_normalises_and_reports_kind() -> None:
    assert MediaSpec("JPEG").format == "jpg"
    assert MediaSpec("JPEG") == MediaSpec("jpg")
    kinds = {fmt: MediaSpec(fmt).kind for fmt in ALL_FORMATS}
    assert kinds == {
        "png": "image",
        "jpg": "image",
        "webp": "image",
        "mp3": "audio",
        "wav": "audio",
        "pcm": "audio",
        "mp4": "video",
        "glb": "model",
    }
    assert MediaSpec("pcm", sample_rate=24000).content_type == "audio/pcm;rate=24000;channels=1"
    assert MediaSpec("png").content_type == "image/png"


def test_spec_init_takes_the_fields_defaults_and_coerces_as_a_dataclass_did() -> None:
    parameters = inspect.signature(MediaSpec.__init__).parameters
    assert [(f.name, f.default) for f in dataclasses.fields(MediaSpec)] == [
        (name, p.default if p.default is not inspect.Parameter.empty else dataclasses.MISSING)
        for name, p in list(parameters.items())[1:]]
    spec = MediaSpec("jpg", width=640.0, height=480, seconds=3, seed=7.0, label=5)
    assert (spec.width, spec.seconds, spec.seed, spec.label) == (640, 3.0, 7, "5")
    assert [type(value) for value in (spec.width, spec.seconds, spec.seed, spec.label)] == [int, float, int, str]
    with pytest.raises(ValueError):
        MediaSpec("png", width=True)
    with pytest.raises(OverflowError):  # float() of a huge int, as before
        MediaSpec("png", seed=10**400)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.width = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"format": "gif"},
        {"format": "png", "width": 0},
        {"format": "png", "height": 100_000},
        {"format": "png", "width": 10.5},
        {"format": "wav", "seconds": 0},
        {"format": "wav", "seconds": float("nan")},
        {"format": "jpg", "quality": 0},
        {"format": "mp4", "fps": 0},
    ],
)
def test_spec_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        MediaSpec(**kwargs)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("JPEG", "image/jpeg"),
        ("webp", "image/webp"),
        ("mp3", "audio/mpeg"),
        ("wav", "audio/wav"),
        ("pcm", "audio/pcm"),
        ("mp4", "video/mp4"),
        ("glb", "model/gltf-binary"),
    ],
)
def test_content_type(fmt: str, expected: str) -> None:
    assert media.content_type(fmt) == expected


def test_extension_and_normalise_format() -> None:
    assert media.extension("jpeg") == "jpg"
    assert media.extension("JPG") == "jpg"
    assert [media.extension(f) for f in ("png", "webp", "mp3", "wav", "pcm", "mp4", "glb")] == [
        "png",
        "webp",
        "mp3",
        "wav",
        "pcm",
        "mp4",
        "glb",
    ]
    assert media.normalise_format(" WebP ") == "webp"
    assert media.normalise_format("Jpeg") == "jpg"
    for bad in ("gif", "", "mov", "jpgg"):
        with pytest.raises(ValueError):
            media.normalise_format(bad)
    with pytest.raises(ValueError):
        media.content_type("tiff")
    with pytest.raises(ValueError):
        media.extension("tiff")


RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21", "5:4", "4:5"]


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize(("megapixels", "multiple"), [(1.0, 16), (1.0, 8), (1.0, 1), (0.25, 8), (2.0, 32), (4.0, 64)])
def test_dimensions_for_aspect(ratio: str, megapixels: float, multiple: int) -> None:
    width, height = media.dimensions_for_aspect(ratio, megapixels, multiple)
    num, den = (int(part) for part in ratio.split(":"))
    assert width % multiple == 0 and height % multiple == 0
    assert abs((width / height) / (num / den) - 1) < 0.02
    assert abs(width * height / (megapixels * 1_048_576) - 1) < 0.10


@pytest.mark.parametrize("ratio", RATIOS)
def test_dimensions_for_aspect_coarse_grid(ratio: str) -> None:
    # 64-px steps at 1 MPx cannot always hit 2 %: e.g. 5:4 -> 1152x896 (2.9 % off) is the best fit.
    width, height = media.dimensions_for_aspect(ratio, 1.0, 64)
    num, den = (int(part) for part in ratio.split(":"))
    assert width % 64 == 0 and height % 64 == 0
    assert abs((width / height) / (num / den) - 1) < 0.03
    assert abs(width * height / 1_048_576 - 1) < 0.10


def test_dimensions_for_aspect_known_values() -> None:
    assert media.dimensions_for_aspect("1:1") == (1024, 1024)
    width, height = media.dimensions_for_aspect("16:9")
    assert 1330 <= width <= 1380 and height == 768
    assert media.dimensions_for_aspect("16:9", multiple=64) == (1344, 768)


def test_dimensions_for_aspect_other_spellings() -> None:
    assert media.dimensions_for_aspect("3/2") == media.dimensions_for_aspect("3:2")
    assert media.dimensions_for_aspect("1.5") == media.dimensions_for_aspect("3:2")


@pytest.mark.parametrize("bad", ["", "16:0", "a:b", "-1:2", "0:1", "1:2:3"])
def test_dimensions_for_aspect_rejects_bad_values(bad: str) -> None:
    with pytest.raises(ValueError):
        media.dimensions_for_aspect(bad)
    with pytest.raises(ValueError):
        media.dimensions_for_aspect("1:1", megapixels=0)
    with pytest.raises(ValueError):
        media.dimensions_for_aspect("1:1", multiple=0)
