"""Datasets: IDX files, Fashion-MNIST, scanned documents, image folders.

    idx.py            read_idx, write_idx: the IDX array format (gzipped or raw)
    download.py       download_file: urllib, SHA-256 checked, atomic, progress bar on stderr
    fashion_mnist.py  load_fashion_mnist, load_mnist, CLASS_NAMES: local copies first, download on request
    documents.py      make_document_pair, make_documents, random_crops, load_document_folder
    folder.py         load_image_folder, load_image: PNG/JPEG files as NCHW arrays

Every loader returns images as NCHW float arrays in [0, 1], float32 unless asked otherwise.
"""

from tinyae.datasets.documents import load_document_folder, make_document_pair, make_documents, random_crops
from tinyae.datasets.download import download_file
from tinyae.datasets.fashion_mnist import CLASS_NAMES, load_fashion_mnist, load_mnist
from tinyae.datasets.folder import load_image, load_image_folder
from tinyae.datasets.idx import read_idx, write_idx

__all__ = [
    "CLASS_NAMES",
    "download_file",
    "load_document_folder",
    "load_fashion_mnist",
    "load_image",
    "load_image_folder",
    "load_mnist",
    "make_document_pair",
    "make_documents",
    "random_crops",
    "read_idx",
    "write_idx",
]
