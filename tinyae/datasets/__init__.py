"""Datasets: IDX files, Fashion-MNIST, scanned documents, image folders."""
