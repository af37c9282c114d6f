"""What starting costs: ``import aclnn_py`` imports neither NumPy nor ml_dtypes, ml_dtypes is
imported where a value needs one of its types, and the pytest plugin (loaded by every pytest
session where aclnn-py is installed) imports neither. Which modules get imported is
deterministic; how long it takes is measured by benchmarks/startup.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def loaded_after(code: str) -> dict[str, bool]:
    """Which of numpy, ml_dtypes a fresh interpreter has imported after running ``code``."""
    probe = code + "\nimport json, sys\nprint(json.dumps({m: m in sys.modules for m in ('numpy', 'ml_dtypes')}))\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_import_aclnn_py_imports_neither_numpy_nor_ml_dtypes():
    assert loaded_after("import aclnn_py") == {"numpy": False, "ml_dtypes": False}


def test_the_binding_imports_ml_dtypes_only_for_its_types():
    """The operators, tensors and dtypes of the binding load without ml_dtypes, also with an
    int8 array converted; asking for a bfloat16 host dtype (or the name 'bfloat16') imports it."""
    setup = textwrap.dedent("""
        import numpy as np
        import aclnn_py, aclnn_py.ops, aclnn_py.hccl, aclnn_py.tensor
        from aclnn_py.semantics import codecs, dtypes, matmul
        from aclnn_py.semantics.grouped_matmul import golden
        from aclnn_py.semantics.quant_matmul_all_reduce import golden as golden2
        assert aclnn_py.DataType.ACL_BF16 and dtypes.of_array(np.zeros(2, np.int8)) == aclnn_py.DataType.ACL_INT8
        a = np.ones((3, 4), np.int8)
        assert matmul.int_matmul(a, a.T)[0, 0] == 4 and codecs.to_float32(a).dtype == np.float32
    """)
    assert loaded_after(setup) == {"numpy": True, "ml_dtypes": False}
    assert loaded_after(setup + "\nassert str(dtypes.host_dtype('bfloat16')) == 'bfloat16'\n")["ml_dtypes"]
    assert loaded_after(setup + "\nassert dtypes.name_of('bfloat16') == 'bfloat16'\n")["ml_dtypes"]


def test_the_pytest_plugin_imports_neither_numpy_nor_ml_dtypes(tmp_path):
    """A session that does not use the plugin's fixtures: the plugin is loaded, NumPy and
    ml_dtypes are not."""
    (tmp_path / "test_unrelated.py").write_text(textwrap.dedent("""
        import sys

        def test_unrelated():
            assert "aclnn_py.testing.plugin" in sys.modules
            assert "numpy" not in sys.modules and "ml_dtypes" not in sys.modules
    """))
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_ADDOPTS"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "aclnn_py",
                             "-p", "no:cacheprovider", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
