"""Network output -> people: preprocess (image -> blob and geometry), peaks (heatmap
maxima), people (limbs from the PAFs, grouped into skeletons)."""
from pose.decode.people import DecodeOptions, NetOutput, decode, decode_multiscale
from pose.decode.preprocess import Geometry, NetResolution, parse_net_resolution, prepare_input

__all__ = ["DecodeOptions", "Geometry", "NetOutput", "NetResolution", "decode", "decode_multiscale",
           "parse_net_resolution", "prepare_input"]
