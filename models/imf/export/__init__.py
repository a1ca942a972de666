"""Served model folders: the export of a trained model (export.py) and the import of an official
checkpoint (import_official.py) through one toolkit: the graph (graphs.py), its ONNX file
(onnx_io.py), the parity checks and reference pixels (checks.py), the manifest (manifest.py), and
the model cards (model_card.py, imported_card.py). The import also reads the official checkpoint
format (official_net.py, mapped onto core/network.py's imfDiT), the VAE (vae.py) and the ImageNet
class names (imagenet_names.py); random_official.py writes random-weight stand-ins for tests."""
