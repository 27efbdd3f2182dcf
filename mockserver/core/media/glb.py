"""glTF binary (GLB) models, packed by hand: a unit cube with one seeded material."""

from __future__ import annotations

import json
import struct
from typing import Any

from mockserver.core.media import seeded
from mockserver.core.media.spec import MediaSpec

#: Per face: the normal, and two in-plane axes u, v with u x v == normal.
_FACES = (
    ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    ((-1, 0, 0), (0, 0, 1), (0, 1, 0)),
    ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
    ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
    ((0, 0, 1), (1, 0, 0), (0, 1, 0)),
    ((0, 0, -1), (0, 1, 0), (1, 0, 0)),
)
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_FLOAT, _UNSIGNED_SHORT = 5126, 5123


def render_glb(spec: MediaSpec) -> bytes:
    """A unit cube (24 vertices with flat normals, 36 indices) with one seeded material."""
    rng = seeded.rng(spec.seed, "glb")
    positions, normals, indices = _cube()
    pos_bytes = struct.pack(f"<{len(positions)}f", *positions)
    nrm_bytes = struct.pack(f"<{len(normals)}f", *normals)
    idx_bytes = struct.pack(f"<{len(indices)}H", *indices)
    idx_bytes += b"\0" * (-len(idx_bytes) % 4)
    binary = pos_bytes + nrm_bytes + idx_bytes
    colour = [round(float(c), 4) for c in seeded.palette(rng, 1)[0]] + [1.0]
    material = {
        "name": "seeded",
        "pbrMetallicRoughness": {
            "baseColorFactor": colour,
            "metallicFactor": round(float(rng.uniform(0.0, 0.5)), 4),
            "roughnessFactor": round(float(rng.uniform(0.3, 0.9)), 4),
        },
    }
    gltf = _document(spec.label or "cube", material, len(binary), len(pos_bytes), len(nrm_bytes), len(indices))
    json_bytes = json.dumps(gltf, separators=(",", ":"), ensure_ascii=False).encode()
    json_bytes += b" " * (-len(json_bytes) % 4)
    return _container(json_bytes, binary)


def _cube() -> tuple[list[float], list[float], list[int]]:
    """Positions and normals (3 floats per vertex, 4 vertices per face) and the triangle indices."""
    positions: list[float] = []
    normals: list[float] = []
    indices: list[int] = []
    for face, (n, u, v) in enumerate(_FACES):
        for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            positions += [0.5 * (n[a] + su * u[a] + sv * v[a]) for a in range(3)]
            normals += n
        b = face * 4
        indices += [b, b + 1, b + 2, b, b + 2, b + 3]
    return positions, normals, indices


def _document(name: str, material: dict[str, Any], binary_length: int, pos_length: int, nrm_length: int,
              index_count: int) -> dict[str, Any]:
    """The glTF JSON of one mesh node with one material over the binary buffer's three views."""
    return {
        "asset": {"version": "2.0", "generator": "mockserver.core.media"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": name}],
        "meshes": [
            {
                "name": "cube",
                "primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2, "material": 0}],
            }
        ],
        "materials": [material],
        "buffers": [{"byteLength": binary_length}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": pos_length, "target": _ARRAY_BUFFER},
            {"buffer": 0, "byteOffset": pos_length, "byteLength": nrm_length, "target": _ARRAY_BUFFER},
            {"buffer": 0, "byteOffset": pos_length + nrm_length, "byteLength": 2 * index_count,
             "target": _ELEMENT_ARRAY_BUFFER},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": _FLOAT, "count": 24, "type": "VEC3",
             "min": [-0.5, -0.5, -0.5], "max": [0.5, 0.5, 0.5]},
            {"bufferView": 1, "componentType": _FLOAT, "count": 24, "type": "VEC3"},
            {"bufferView": 2, "componentType": _UNSIGNED_SHORT, "count": index_count, "type": "SCALAR"},
        ],
    }


def _container(json_bytes: bytes, binary: bytes) -> bytes:
    """The GLB file: a 12-byte header, then the JSON chunk and the binary chunk."""
    total = 12 + 8 + len(json_bytes) + 8 + len(binary)
    return b"".join(
        (
            struct.pack("<4sII", b"glTF", 2, total),
            struct.pack("<I4s", len(json_bytes), b"JSON"),
            json_bytes,
            struct.pack("<I4s", len(binary), b"BIN\0"),
            binary,
        )
    )
