"""The linear-autoencoder = PCA lab: theory (what must hold), data, training to a tight optimum,
the measurements, and the report. Run it as ``tinyae pca-check`` or through ``pca_check``.
"""

from tinyae.lab.data import fashion_mnist_vectors, moment_rows, synthetic_data, synthetic_spectrum
from tinyae.lab.pca_check import LabResult, pca_check
from tinyae.lab.report import components_figure, format_report

__all__ = ["pca_check", "LabResult", "format_report", "components_figure", "synthetic_data", "synthetic_spectrum",
           "fashion_mnist_vectors", "moment_rows"]
