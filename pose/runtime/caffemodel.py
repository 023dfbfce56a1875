"""Read and write Caffe .caffemodel files without Caffe.

A .caffemodel is a protobuf `NetParameter`. Only the fields the body networks need are
handled: NetParameter.name (1), .layer (100, LayerParameter) and the legacy .layers
(2, V1LayerParameter); a layer's name, type, bottoms, tops and blobs; a BlobProto's
shape (7) or legacy num/channels/height/width (1-4), and its float (5) or double (8)
data, packed or not.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Sequence, Tuple, Union

import numpy as np

# protobuf wire types
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# field numbers (caffe.proto)
_NET_NAME, _NET_LAYERS_V1, _NET_LAYER = 1, 2, 100
_LAYER = {"name": 1, "type": 2, "bottom": 3, "top": 4, "blobs": 7}
_LAYER_V1 = {"bottom": 2, "top": 3, "name": 4, "type": 5, "blobs": 6}
_BLOB_LEGACY_DIMS, _BLOB_DATA, _BLOB_SHAPE, _BLOB_DOUBLE = (1, 2, 3, 4), 5, 7, 8


class CaffeModelError(ValueError):
    """The bytes are not a readable Caffe NetParameter."""


# ---------------------------------------------------------------- encoding

def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1  # negative int64s are ten-byte varints
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _len_field(field: int, payload: bytes) -> bytes:
    return _key(field, _LEN) + _varint(len(payload)) + payload


def encode_blob(array: np.ndarray) -> bytes:
    """A BlobProto with a shape and packed float32 data."""
    array = np.ascontiguousarray(array, dtype="<f4")
    shape = b"".join(_varint(d) for d in array.shape)
    return (_len_field(_BLOB_SHAPE, _len_field(1, shape))
            + _len_field(_BLOB_DATA, array.tobytes()))


def encode_layer(name: str, type_: str, bottoms: Sequence[str], tops: Sequence[str],
                 blobs: Sequence[np.ndarray]) -> bytes:
    parts = [_len_field(_LAYER["name"], name.encode()), _len_field(_LAYER["type"], type_.encode())]
    parts += [_len_field(_LAYER["bottom"], b.encode()) for b in bottoms]
    parts += [_len_field(_LAYER["top"], t.encode()) for t in tops]
    parts += [_len_field(_LAYER["blobs"], encode_blob(b)) for b in blobs]
    return b"".join(parts)


def write_caffemodel(path: Union[str, Path], layers: Iterable[Tuple[str, str, Sequence[str], Sequence[str], Sequence[np.ndarray]]],
                     name: str = "") -> Path:
    """Write a NetParameter of (name, type, bottoms, tops, blobs) layers, atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        if name:
            f.write(_len_field(_NET_NAME, name.encode()))
        for layer in layers:
            f.write(_len_field(_NET_LAYER, encode_layer(*layer)))
    tmp.replace(path)
    return path


# ---------------------------------------------------------------- decoding

def _read_varint(buf: memoryview, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise CaffeModelError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise CaffeModelError("varint too long")


def _fields(buf: memoryview) -> Iterator[Tuple[int, int, object]]:
    """(field, wire type, value) for each field; LEN values as memoryviews."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise CaffeModelError("field number 0")
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == _I64:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == _I32:
            value, pos = buf[pos:pos + 4], pos + 4
        elif wire == _LEN:
            size, pos = _read_varint(buf, pos)
            if pos + size > len(buf):
                raise CaffeModelError("truncated field")
            value, pos = buf[pos:pos + size], pos + size
        else:
            raise CaffeModelError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise CaffeModelError("truncated field")
        yield field, wire, value


def _packed_varints(buf: memoryview) -> List[int]:
    out, pos = [], 0
    while pos < len(buf):
        v, pos = _read_varint(buf, pos)
        out.append(v)
    return out


def decode_blob(buf: memoryview) -> np.ndarray:
    shape: List[int] = []
    legacy = {}
    chunks: List[np.ndarray] = []
    for field, wire, value in _fields(buf):
        if field == _BLOB_SHAPE:
            for f, w, v in _fields(value):
                if f == 1:
                    shape += _packed_varints(v) if w == _LEN else [v]
        elif field in _BLOB_LEGACY_DIMS and wire == _VARINT:
            legacy[field] = value
        elif field == _BLOB_DATA:
            chunks.append(np.frombuffer(value, dtype="<f4"))
        elif field == _BLOB_DOUBLE:
            chunks.append(np.frombuffer(value, dtype="<f8").astype(np.float32))
    data = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if not shape:
        shape = [legacy.get(f, 1) for f in _BLOB_LEGACY_DIMS]
    if int(np.prod(shape)) != data.size:
        raise CaffeModelError(f"blob of shape {shape} holds {data.size} values")
    return data.reshape(shape)


def read_caffemodel(path: Union[str, Path]) -> Dict[str, List[np.ndarray]]:
    """Blobs of every layer that has any, by layer name, in file order."""
    data = Path(path).read_bytes()
    return parse_caffemodel(data)


def parse_caffemodel(data: bytes) -> Dict[str, List[np.ndarray]]:
    out: Dict[str, List[np.ndarray]] = {}
    for field, wire, value in _fields(memoryview(data)):
        if wire != _LEN or field not in (_NET_LAYER, _NET_LAYERS_V1):
            continue
        names = _LAYER if field == _NET_LAYER else _LAYER_V1
        name, blobs = None, []
        for f, w, v in _fields(value):
            if f == names["name"] and w == _LEN:
                name = bytes(v).decode("utf-8", "replace")
            elif f == names["blobs"] and w == _LEN:
                blobs.append(decode_blob(v))
        if name is not None and blobs:
            out[name] = blobs
    return out


def looks_like_caffemodel(path: Union[str, Path]) -> bool:
    """Cheap check of the first field: a NetParameter starts with a name or a layer."""
    with open(path, "rb") as f:
        head = f.read(4096)
    try:
        field, wire, _ = next(_fields(memoryview(head)), (0, 0, None))
    except CaffeModelError:
        # the first field may run past the 4 KiB read; its key is what matters
        try:
            key, _ = _read_varint(memoryview(head), 0)
        except CaffeModelError:
            return False
        field, wire = key >> 3, key & 7
    return wire == _LEN and field in (_NET_NAME, _NET_LAYERS_V1, _NET_LAYER)
