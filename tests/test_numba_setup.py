"""tinyae.kernels asks Numba for 512-bit vectors on AVX-512 CPUs, and leaves a user's own CPU settings alone."""

import os
import subprocess
import sys

from numba.core import codegen

SNIPPET = "import tinyae.kernels; from numba.core import config; print(config.CPU_FEATURES)"


def features_after_import(**env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CPU")}
    result = subprocess.run([sys.executable, "-c", SNIPPET], env=dict(environ, **env), check=True,
                            capture_output=True, text=True)
    return result.stdout.strip()


def test_512_bit_vectors_exactly_on_avx512_hosts():
    host = codegen.get_host_cpu_features()
    features = features_after_import()
    if "+avx512f" in host.split(","):
        assert features == host + ",-prefer-256-bit"
    else:
        assert features == "None"


def test_a_users_numba_cpu_features_win():
    assert features_after_import(NUMBA_CPU_FEATURES="+sse2") == "+sse2"
