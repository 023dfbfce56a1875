"""The networks themselves: their Caffe definitions generated from the facts
(architecture), the .caffemodel format (caffemodel), the ONNX conversion (onnx_export)
and its cache (convert), and the checks on the files users provide (weights)."""
