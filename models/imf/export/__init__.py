"""Served model folders: the export of a trained model (export.py) and the import of an official
checkpoint (import_official.py) through one toolkit: the graph (graphs.py), its ONNX file
(onnx_io.py), the parity checks and reference pixels (checks.py), the manifest (manifest.py), and
the model cards."""
