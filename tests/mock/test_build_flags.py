"""What C build systems get from an installed aclnn-py: ``python -m mock_runtime cflags`` and
``libs`` (compiler and linker flags, one call each) and ``pc`` (the pkg-config file
aclnn-mock.pc). A C program built with only those flags runs on the mock with nothing but PATH
in its environment (the libraries' directory is its run path)."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mock_helpers import require_tool
from mock_runtime.__main__ import main

PROGRAM = r"""
#include <stdio.h>
#include "acl/acl.h"
#include "aclnnop/aclnn_trans_matmul_weight.h"
#include "hccl/hccl.h"

int main(void)
{
    uint32_t devices = 0;
    int32_t host[4] = {1, 2, 3, 4}, back[4] = {0, 0, 0, 0};
    void *device = NULL;
    int64_t shape[2] = {510, 270};
    uint64_t elements = 0;
    if (aclInit(NULL) || aclrtGetDeviceCount(&devices) || aclrtSetDevice(0)) return 1;
    if (aclrtMalloc(&device, sizeof host, ACL_MEM_MALLOC_HUGE_FIRST)) return 2;
    if (aclrtMemcpy(device, sizeof host, host, sizeof host, ACL_MEMCPY_HOST_TO_DEVICE) ||
        aclrtMemcpy(back, sizeof back, device, sizeof host, ACL_MEMCPY_DEVICE_TO_HOST)) return 3;
    aclIntArray *weight = aclCreateIntArray(shape, 2);
    if (aclnnCalculateMatmulWeightSizeV2(weight, ACL_INT8, &elements)) return 4;
    printf("devices %u copied %d %d %d %d nz-elements %llu hccl-para \"%s\"\n", (unsigned)devices, back[0], back[1],
           back[2], back[3], (unsigned long long)elements, HcclGetErrorString(HCCL_E_PARA));
    aclDestroyIntArray(weight);
    if (aclrtFree(device) || aclrtResetDevice(0) || aclFinalize()) return 5;
    return 0;
}
"""


@pytest.fixture
def mock_runtime(capsys, monkeypatch):
    """``mock_runtime(command)``: what ``python -m mock_runtime command`` prints (its main(), in
    this process: a child interpreter per command would only add its start-up time)."""

    def run(command: str) -> str:
        monkeypatch.setattr(sys, "argv", ["python -m mock_runtime", command])
        try:
            main()
        except SystemExit as exit_:
            assert exit_.code in (None, 0), exit_.code
        out, err = capsys.readouterr()
        assert err == ""
        return out

    return run


def pkg_config(pc: str, *options: str) -> str:
    """What ``pkg-config OPTIONS aclnn-mock`` prints for ``pc``: its variables substituted."""
    variables = dict(re.findall(r"^(\w+)=(.*)$", pc, re.M))
    fields = dict(re.findall(r"^(\w+): (.*)$", pc, re.M))
    chosen = {"--cflags": "Cflags", "--libs": "Libs"}
    text = " ".join(fields[chosen[option]] for option in options)
    return re.sub(r"\$\{(\w+)\}", lambda match: variables[match.group(1)], text)


def test_a_c_program_builds_and_runs_with_only_cflags_and_libs(tmp_path, mock_runtime):
    gcc = require_tool("gcc")
    cflags, libs = mock_runtime("cflags").strip(), mock_runtime("libs").strip()
    (tmp_path / "program.c").write_text(PROGRAM)
    build = subprocess.run([gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", *shlex.split(cflags), "program.c",
                            "-o", "program", *shlex.split(libs)], capture_output=True, text=True, cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(tmp_path / "program")], capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stdout + run.stderr
    # 8 devices (the mock's default); aclnnCalculateMatmulWeightSizeV2's doc example: (510, 270) INT8 -> 147456
    assert run.stdout.startswith("devices 8 copied 1 2 3 4 nz-elements 147456 hccl-para "), run.stdout


def test_the_flags_name_the_headers_and_the_classic_libraries(mock_runtime):
    include = Path(mock_runtime("includedir").strip())
    libdir = Path(mock_runtime("libdir").strip())
    assert mock_runtime("cflags").split() == [f"-I{include}"]
    assert (include / "acl" / "acl.h").is_file()
    assert mock_runtime("libs").split() == [f"-L{libdir}", f"-Wl,--enable-new-dtags,-rpath,{libdir}",
                                            "-lascendcl", "-lnnopbase", "-lhccl", "-lopapi"]
    for name in ("ascendcl", "nnopbase", "hccl", "opapi"):
        assert (libdir / f"lib{name}.so").is_file()


def test_the_pkg_config_file_gives_the_same_flags(mock_runtime):
    pc = mock_runtime("pc")
    assert re.search(r"^Name: aclnn-mock$", pc, re.M) and re.search(r"^Version: \S+$", pc, re.M)
    assert pkg_config(pc, "--cflags") == mock_runtime("cflags").strip()
    assert pkg_config(pc, "--libs") == mock_runtime("libs").strip()
