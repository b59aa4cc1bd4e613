"""The one packaging rule pyproject.toml cannot state: the shipped models live in ``weights/``
at the repository root and are installed as ``tracker/weights/``, so a wheel or an sdist
tracks out of the box (``tracker.zoo.weights_dir`` finds either). Metadata: pyproject.toml."""
from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["tracker", "tracker.*"], exclude=["*.__pycache__"]), "tracker.weights"],
    package_dir={"tracker.weights": "weights"},
    package_data={"tracker.configs": ["*.yaml"], "tracker.serve": ["static/*"], "tracker.weights": ["manifest.json", "*.onnx", "*.onnx.data", "*.pt"]},
)
